"""The shop is instrumented the way the README tells a user to: one import, business keys.

Each of the five services imports `clew.instrumentation.auto` before anything else and uses
nothing else of clew.instrumentation but `business_context` (orders: and the outbox helper);
the only OpenTelemetry API call is payments marking its refund as a compensation.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import clew.demo.shop

SHOP = Path(clew.demo.shop.__file__).parent
SERVICES = ("gateway", "orders", "payments", "inventory", "fulfilment")
ALLOWED = {"business_context", "outbox"}
# The plain OTel API, where a real service would use it too: payments marks the saga's
# compensation on the current span; inventory's stock audit is a batch job with a span of its
# own (the lock holder the diagnosis names); fulfilment records where the consumed message sits
# (partition, offset, group, key: more than the aiokafka instrumentation records).
OTEL_ALLOWED = {"payments": {"trace"}, "inventory": {"trace"}, "fulfilment": {"trace"}}


def _imports(module: str) -> list[ast.Import | ast.ImportFrom]:
    tree = ast.parse((SHOP / f"{module}.py").read_text())
    return [node for node in tree.body if isinstance(node, ast.Import | ast.ImportFrom)]


@pytest.mark.parametrize("service", SERVICES)
def test_the_auto_import_comes_first(service: str) -> None:
    first = next(n for n in _imports(service) if getattr(n, "module", "") != "__future__")
    assert isinstance(first, ast.Import)
    assert [alias.name for alias in first.names] == ["clew.instrumentation.auto"]


@pytest.mark.parametrize("service", [*SERVICES, "relay", "common"])
def test_only_business_context_and_the_outbox_helper(service: str) -> None:
    for node in _imports(service):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("clew.instr"):
            assert node.module == "clew.instrumentation"
            assert {alias.name for alias in node.names} <= ALLOWED
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("opentelemetry"):
            assert node.module == "opentelemetry"
            assert {a.name for a in node.names} <= OTEL_ALLOWED.get(service, set())
        if isinstance(node, ast.Import):
            assert not any(a.name.startswith("opentelemetry") for a in node.names)
