"""Per-request cost of tracing a FastAPI endpoint: none, plain contrib, and clew.

Each variant runs in its own interpreter (instrumentation is process-wide) and drives the
ASGI app directly, so the figures are the app's own cost, not a client's or a socket's.
Spans are exported over OTLP/HTTP to a receiver in another process, so the exporting thread's
encoding (which holds the GIL) is in the CPU figure, as it is in a real service.

    uv run python bench/instrumentation.py [--requests 5000] [--rounds 5]

Prints µs per request (p50, p99 of wall time), CPU µs per request (process time / N,
exporter thread included), the part of it spent on the request's own thread ("req cpu"; the
rest is the exporting thread), and each variant's overhead over the uninstrumented app.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

VARIANTS = ("none", "contrib", "contrib-no-receive-send", "clew")

RECEIVER = """
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()
    def log_message(self, *args):
        pass

server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
"""

RUN = """
import asyncio, json, os, sys, time
variant, requests = sys.argv[1], int(sys.argv[2])

if variant == "clew":
    import clew.instrumentation.auto
elif variant.startswith("contrib"):
    from opentelemetry import trace
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor
    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)

from fastapi import FastAPI
app = FastAPI()

@app.get("/orders/{order_id}")
async def order(order_id: str):
    return {"order": order_id, "status": "reserved"}

if variant.startswith("contrib"):
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
    exclude = ["receive", "send"] if variant == "contrib-no-receive-send" else None
    FastAPIInstrumentor.instrument_app(app, exclude_spans=exclude)

SCOPE = {
    "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
    "scheme": "http", "path": "/orders/o-42", "raw_path": b"/orders/o-42", "query_string": b"",
    "root_path": "", "headers": [(b"host", b"127.0.0.1:8000"), (b"user-agent", b"bench")],
    "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000),
}

async def receive():
    return {"type": "http.request", "body": b"", "more_body": False}

async def send(message):
    pass

async def main():
    for _ in range(300):  # warm up: imports, route compilation, first exports
        await app(dict(SCOPE), receive, send)
    samples = []
    cpu0, thread0 = time.process_time(), time.thread_time()
    for _ in range(requests):
        t0 = time.perf_counter_ns()
        await app(dict(SCOPE), receive, send)
        samples.append(time.perf_counter_ns() - t0)
    thread = time.thread_time() - thread0
    # Let the exporter catch up so its encoding is counted for these requests.
    if variant != "none":
        from opentelemetry import trace
        trace.get_tracer_provider().force_flush()
    cpu = time.process_time() - cpu0
    samples.sort()
    print(json.dumps({
        "p50": samples[len(samples) // 2] / 1000,
        "p99": samples[int(len(samples) * 0.99)] / 1000,
        "cpu": cpu / requests * 1e6,
        "req": thread / requests * 1e6,
    }))

asyncio.run(main())
"""


def measure(variant: str, requests: int, endpoint: str) -> dict[str, float]:
    """Run one variant in a fresh interpreter; its p50/p99/cpu in µs."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "CLEW_"))}
    env |= {"OTEL_EXPORTER_OTLP_ENDPOINT": endpoint, "OTEL_SERVICE_NAME": "bench"}
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(RUN), variant, str(requests)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).resolve().parents[1],
    )
    if done.returncode != 0:
        raise SystemExit(f"{variant} failed:\n{done.stderr}")
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=5, help="best of N runs per variant")
    options = parser.parse_args()
    receiver = subprocess.Popen([sys.executable, "-c", RECEIVER], stdout=subprocess.PIPE, text=True)
    try:
        assert receiver.stdout is not None
        endpoint = f"http://127.0.0.1:{receiver.stdout.readline().strip()}"
        report(options.requests, options.rounds, endpoint)
    finally:
        receiver.terminate()
        receiver.wait()


def report(requests: int, rounds: int, endpoint: str) -> None:
    """Best of `rounds` per variant (least disturbed by the rest of the machine).

    The variants take turns within each round, so that a busy spell slows all of them.
    """
    runs: dict[str, list[dict[str, float]]] = {variant: [] for variant in VARIANTS}
    for _ in range(rounds):
        for variant in VARIANTS:
            runs[variant].append(measure(variant, requests, endpoint))
    results = {
        variant: {key: min(run[key] for run in measured) for key in ("p50", "p99", "cpu", "req")}
        for variant, measured in runs.items()
    }
    base = results["none"]
    print(f"{requests} requests per run, best of {rounds} runs, µs per request")
    print(f"{'variant':<26}{'p50':>9}{'p99':>9}{'cpu':>9}{'req cpu':>9}", end="")
    print(f"{'+p50':>9}{'+cpu':>9}{'+req cpu':>9}")
    for variant, r in results.items():
        print(
            f"{variant:<26}{r['p50']:>9.1f}{r['p99']:>9.1f}{r['cpu']:>9.1f}{r['req']:>9.1f}"
            f"{r['p50'] - base['p50']:>9.1f}{r['cpu'] - base['cpu']:>9.1f}"
            f"{r['req'] - base['req']:>9.1f}"
        )


if __name__ == "__main__":
    main()
