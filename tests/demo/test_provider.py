"""The fake card provider: test cards, one slow first answer per key, idempotent answers."""

from __future__ import annotations

from fastapi.testclient import TestClient

from clew.demo.shop import provider
from clew.demo.shop.common import backoff

CLIENT = TestClient(provider.app)


def _charge(card: str, key: str) -> dict[str, object]:
    response = CLIENT.post("/v1/charges", json={"card": card, "amount_cents": 100},
                           headers={"Idempotency-Key": key})  # fmt: skip
    assert response.status_code == 200, response.text
    answer: dict[str, object] = response.json()
    return answer


def test_a_repeated_key_gets_the_first_answer() -> None:
    first = _charge(provider.CARD_OK, "k-repeat")
    assert first["approved"] is True
    assert _charge(provider.CARD_OK, "k-repeat") == first
    assert _charge(provider.CARD_OK, "k-other")["id"] != first["id"]


def test_the_declined_card_is_declined_with_a_code() -> None:
    answer = _charge(provider.CARD_DECLINED, "k-declined")
    assert (answer["approved"], answer["decline_code"]) == (False, "insufficient_funds")


def test_the_slow_card_is_slow_only_for_the_first_attempt() -> None:
    provider._seen.discard("k-slow")
    first = _charge(provider.CARD_SLOW_ONCE, "k-slow")
    assert "k-slow" in provider._seen and first["approved"] is True
    assert _charge(provider.CARD_SLOW_ONCE, "k-slow") == first


def test_a_bad_request_is_a_422() -> None:
    assert CLIENT.post("/v1/charges", json={"card": "4242"}).status_code == 422


def test_retry_delays_back_off_exponentially_with_jitter() -> None:
    for attempt in (1, 2, 3):
        base = 0.1 * 2 ** (attempt - 1)
        delays = {backoff(0.1, attempt) for _ in range(50)}
        assert all(base <= d <= 2 * base for d in delays)
        assert len(delays) > 1  # jittered, not one fixed value
