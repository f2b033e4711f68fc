"""A traceback read into frames: the application's own first, innermost first."""

from __future__ import annotations

from clew.query_ui.explain.frames import app_first, frames
from tests.query_ui.explain.stories.evidence import STACK


def test_the_failing_line_of_the_application_comes_first() -> None:
    found = app_first(STACK)
    assert [(f.file.rsplit("/", 1)[-1], f.line, f.library) for f in found] == [
        ("invoices.py", 17, False),
        ("invoices.py", 42, False),
        ("routing.py", 301, True),
        ("routing.py", 74, True),
    ]
    assert found[0].function == "load_invoice"
    assert found[0].code == 'raise InvoiceGone(f"invoice {invoice_id} no longer exists")'


def test_a_stack_that_is_not_pythons_has_no_frames() -> None:
    assert frames("java.lang.IllegalStateException: x\n\tat com.example.A.b(A.java:1)") == []
    assert frames("") == []
