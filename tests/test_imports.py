"""The allowed imports between clew's parts (docs/ARCHITECTURE.md), checked on the source.

clew.instrumentation   imports no other part (a service installs it alone)
clew.common            imports nothing of clew but itself
clew.collector         clew.common
clew.query_ui          clew.common; of the collector only its store backends (to open a
                       server store for `clew ui`), its start-up error handling and errors
clew.query_ui.read     the read model: clew.common and clew.query_ui.errors, nothing of the
                       pages, routers or the explainer
clew.query_ui.explain  the read model and clew.common, never the UI's modules
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PARTS = {
    "clew.instrumentation": ROOT / "instrumentation/src/clew/instrumentation",
    "clew.common": ROOT / "collector/src/clew/common",
    "clew.collector": ROOT / "collector/src/clew/collector",
    "clew.query_ui": ROOT / "query_ui/src/clew/query_ui",
}
ALLOWED = {
    "clew.instrumentation": ("clew.instrumentation",),
    "clew.common": ("clew.common",),
    "clew.collector": ("clew.collector", "clew.common"),
    "clew.query_ui": (
        "clew.query_ui",
        "clew.common",
        "clew.collector.store",
        "clew.collector.cli",
        "clew.collector.errors",
    ),
    "clew.query_ui.read": ("clew.query_ui.read", "clew.query_ui.errors", "clew.common"),
    "clew.query_ui.explain": (
        "clew.query_ui.explain",
        "clew.query_ui.read",
        "clew.query_ui.errors",
        "clew.common",
    ),
}


def _module(part: str, path: Path) -> str:
    relative = path.relative_to(PARTS[part]).with_suffix("")
    names = [n for n in relative.parts if n != "__init__"]
    return ".".join([part, *names])


def _clew_imports(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append(node.module)
    return [name for name in found if name.split(".")[0] == "clew"]


def _rules(module: str) -> tuple[str, ...]:
    """The most specific rule that covers `module`."""
    owner = max((name for name in ALLOWED if f"{module}.".startswith(f"{name}.")), key=len)
    return ALLOWED[owner]


def _allowed(name: str, rules: tuple[str, ...]) -> bool:
    return any(f"{name}.".startswith(f"{rule}.") for rule in rules)


@pytest.mark.parametrize("part", sorted(PARTS))
def test_each_part_imports_only_what_it_may(part: str) -> None:
    wrong = [
        f"{_module(part, path)} imports {name}"
        for path in sorted(PARTS[part].rglob("*.py"))
        for name in _clew_imports(path)
        if not _allowed(name, _rules(_module(part, path)))
    ]
    assert wrong == []


def test_the_check_sees_a_forbidden_import(tmp_path: Path) -> None:
    # The read model importing a page module would break the rule: the check must say so.
    source = tmp_path / "bad.py"
    source.write_text("from clew.query_ui.routers import pages\n", encoding="utf-8")
    names = _clew_imports(source)
    assert names == ["clew.query_ui.routers"]
    assert not _allowed(names[0], _rules("clew.query_ui.read.load"))
    assert _allowed(names[0], _rules("clew.query_ui.app"))
