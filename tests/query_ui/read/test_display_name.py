"""Span.display_name: a span named by what it did, the raw name kept."""

from __future__ import annotations

import pytest

from clew.query_ui.read.model import Span, display_name


@pytest.mark.parametrize(
    ("name", "kind", "attributes", "shown"),
    [
        ("POST", "Client", {"http.request.method": "POST", "server.address": "inventory",
                            "url.full": "http://inventory/reservations?x=1"},
         "POST inventory /reservations"),
        ("GET", "Client", {"http.method": "GET", "http.url": "https://api.example/v1/x"},
         "GET api.example /v1/x"),
        ("POST", "Client", {"http.request.method": "POST", "server.address": "127.0.0.1",
                            "server.port": "8123", "url.path": "/orders"},
         "POST 127.0.0.1:8123 /orders"),
        ("POST", "Server", {"http.request.method": "POST", "http.route": "/checkout"},
         "POST /checkout"),
        ("POST /checkout", "Server", {"http.request.method": "POST"}, "POST /checkout"),
        ("UPDATE", "Client", {"db.system.name": "sqlite",
                              "db.query.text": "UPDATE stock SET n = ? WHERE sku = ?"},
         "sqlite UPDATE stock"),
        ("query", "Client", {"db.system": "postgresql", "db.operation": "select",
                             "db.sql.table": "cards"}, "postgresql SELECT cards"),
        ("orders.placed process", "Consumer", {"messaging.destination.name": "orders.placed"},
         "process orders.placed"),
        ("send", "Producer", {"messaging.destination": "old", "messaging.operation": "publish"},
         "publish old"),
        ("stock audit", "Internal", {}, "stock audit"),
    ],
)  # fmt: skip
def test_spans_are_named_by_what_they_did(
    name: str, kind: str, attributes: dict[str, str], shown: str
) -> None:
    assert display_name(name, kind, attributes) == shown
    span = Span("t", "s", "", name, "svc", 0, 1, kind=kind, attributes=attributes)
    assert (span.display_name, span.name, span.label) == (shown, name, f"svc '{shown}'")
