"""Signatures: what is masked, what stays, and what makes two groups."""

from __future__ import annotations

import pytest

from clew.query_ui.overview.signature import mask, signature


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("order ord-1 failed after 3.2 s", "order ord-77 failed after 0.4 s"),
        (
            "user 5f0c2a1e-1111-2222-3333-444455556666 gone",
            "user 0b0c2a1e-1111-2222-3333-abcdefabcdef gone",
        ),
        ("trace 0123456789abcdef at 10.0.0.1:8080", "trace 00000000deadbeef at 10.0.0.2:9090"),
        ("card 4000000000000002 declined", "card 4000000000000077 declined"),
    ],
)
def test_messages_that_differ_only_by_ids_and_numbers_mask_alike(one: str, other: str) -> None:
    assert mask(one) == mask(other)


def test_words_and_quotes_stay() -> None:
    assert mask("KeyError: 'same-day'") == "KeyError: 'same-day'"
    assert mask("deadlock detected") != mask("lock wait timeout")
    assert len(mask("x " * 5000)) <= 500


def test_each_part_of_a_signature_counts() -> None:
    base = ("payments", "POST /payments", "CardDeclined", "card <n> declined")
    assert signature(*base) == signature(*base)
    for n in range(4):
        changed = list(base)
        changed[n] += "!"
        assert signature(*changed) != signature(*base)
