"""The scenario suite: every story sent through OTLP/HTTP into a real `clew serve`, then
diagnosed from its data folder as `clew why` would, and checked against its expectation.

The module prints the accuracy (stories diagnosed right / stories) and the list of stories.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from clew.collector.store import ChdbStore
from clew.query_ui import text
from clew.query_ui.explain import diagnose
from tests.query_ui.explain import otlp
from tests.query_ui.explain.stories import (
    Expect,
    Story,
    clocks,
    compensation,
    evidence,
    outcome,
    retries,
)
from tests.support.clew_server import ClewServer

STORIES: tuple[Story, ...] = (
    *outcome.STORIES,
    *compensation.STORIES,
    *retries.STORIES,
    *evidence.STORIES,
    *clocks.STORIES,
)
SPACING_MS = 300_000
"""Each story five minutes before the next, so that no story's spans fall in another's window
(the contention query looks at every trace around a slow call)."""


@dataclass(frozen=True)
class Result:
    """A story's expectation and what was wrong with its diagnosis (nothing: right)."""

    name: str
    expect: Expect
    wrong: list[str]
    text: str


def _value(story: Story) -> str:
    return "s-" + story.__name__.replace("_", "-")


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Result]]:
    server = ClewServer(tmp_path_factory.mktemp("stories") / "clew-data")
    server.start()
    expected: dict[str, Expect] = {}
    try:
        for index, story in enumerate(STORIES):
            built, expected[_value(story)] = story(_value(story))
            built.shift(None, -(len(STORIES) - index) * SPACING_MS)
            otlp.send(server.http_url, built.spans, built.logs)
    finally:
        server.stop()
    store = ChdbStore(server.data_dir)
    try:
        yield {value: _judge(store, value, expect) for value, expect in expected.items()}
    finally:
        store.close()


def _judge(store: ChdbStore, value: str, expect: Expect) -> Result:
    found = diagnose(store, "order.id", value).to_dict()
    printed = text.diagnosis(found)
    return Result(value, expect, expect.mismatches(found, printed), printed)


@pytest.mark.parametrize("story", STORIES, ids=_value)
def test_the_story_is_diagnosed_as_expected(results: dict[str, Result], story: Story) -> None:
    result = results[_value(story)]
    assert result.wrong == [], "\n".join([*result.wrong, "", result.text])


def test_accuracy(results: dict[str, Result], capsys: pytest.CaptureFixture[str]) -> None:
    right = [r for r in results.values() if not r.wrong]
    with capsys.disabled():
        print(f"\nexplainer scenario suite: {len(right)}/{len(results)} stories right")
        for r in results.values():
            print(f"  {'ok  ' if not r.wrong else 'WRONG'} {r.name}: {r.expect.status}")
    assert len(results) >= 30
    assert len(right) == len(results)
