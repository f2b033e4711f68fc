"""The read model: what every page, JSON route, CLI command and the explainer read.

    store ──load.py (queries.py)──▶ Story (story.py: spans, logs, links, failed)
                                        │
        explain/ (the diagnosis) ◀──────┤──────▶ pages, API (shapes.py), CLI
                                        │
                               critical.py, failed.py, format.py

model.py holds the values (Span, LogRecord, Link, Event); story.py the facts that need the
rest of the story; failed.py the one definition of a failed span; critical.py the critical
path; format.py how times and durations read; shapes.py the JSON of a span, link and log.
This package imports nothing of the UI's pages or of the explainer.
"""
