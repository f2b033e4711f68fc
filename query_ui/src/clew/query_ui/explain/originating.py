"""Rule: a failure that no earlier rule explained is where a failure started."""

from __future__ import annotations

from clew.query_ui.explain.finding import Finding
from clew.query_ui.read.story import Story


def originating(story: Story) -> list[Finding]:
    """Every failed span, as a cause; rules.RULES runs this last so only the unexplained remain."""
    return [
        Finding("cause", span, "; ".join(s.text for s in story.signals(span)))
        for span in story.failed_spans()
    ]
