"""Run a Python snippet in a fresh interpreter (import order, env variables, fork)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from typing import Any

# Prints, as JSON on the last line, the spans and logs that a snippet exported in memory.
MEMORY_SETUP = """
import json
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter
SPANS, LOGS = InMemorySpanExporter(), InMemoryLogRecordExporter()

def report(**extra):
    import clew.instrumentation as ci
    ci.force_flush()
    spans = [
        {"name": s.name, "kind": s.kind.name, "attributes": dict(s.attributes),
         "resource": {k: str(v) for k, v in s.resource.attributes.items()}}
        for s in SPANS.get_finished_spans()
    ]
    logs = [{"body": str(r.log_record.body)} for r in LOGS.get_finished_logs()]
    print(json.dumps({"spans": spans, "logs": logs, **extra}))
"""


def run_python(code: str, env: dict[str, str] | None = None, argv0: list[str] | None = None) -> Any:
    """Run code (dedented) with MEMORY_SETUP prepended; the JSON its last line printed."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "CLEW_"))}
    full_env.update(env or {})
    script = MEMORY_SETUP + textwrap.dedent(code)
    command = [*(argv0 or []), sys.executable, "-c", script]
    done = subprocess.run(command, env=full_env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])
