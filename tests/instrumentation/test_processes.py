"""Real server processes: workers and forks all export, once; a bad collector never blocks."""

from __future__ import annotations

from collections import Counter

import httpx

from tests.instrumentation.otlp_sink import Sink, otlp_sink
from tests.instrumentation.processes import BIN, gunicorn_preload, serve, service_env, uvicorn
from tests.support.ports import free_port

APP = "tests.instrumentation.apps.worker:app"
SERVER = 2  # SpanKind.SERVER in OTLP


def call_pid(url: str, times: int) -> list[int]:
    """GET /pid on fresh connections, so the kernel spreads them over the workers."""
    return [httpx.get(f"{url}/pid", timeout=30).json()["pid"] for _ in range(times)]


def requests_spans(sink: Sink) -> list[dict[str, object]]:
    return [s for s in sink.spans if s["kind"] == SERVER and s["name"] == "GET /pid"]


def assert_every_worker_exports(sink: Sink, workers: int, answered: list[int]) -> None:
    sink.wait_for(
        lambda s: (
            len({x["attributes"]["worker.pid"] for x in s.spans if x["name"] == "worker started"})
            == workers
        )
    )
    sink.wait_for(
        lambda s: len(requests_spans(s)) >= len(answered) and len(s.logs) >= len(answered)
    )
    served = Counter(int(s["attributes"]["worker.pid"]) for s in requests_spans(sink))  # type: ignore[index]
    assert served == Counter(answered)  # every request exactly once, from the worker that served it
    logged = Counter(log["body"] for log in sink.logs if log["body"].startswith("served by"))
    assert logged == Counter(f"served by {pid}" for pid in answered)


def test_uvicorn_workers_all_export(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with otlp_sink() as sink:
        env = service_env(sink.url, "workers")
        with serve(uvicorn(APP, "--workers", "2"), env) as service:
            answered = call_pid(service.url, 20)
            assert_every_worker_exports(sink, 2, answered)


def test_gunicorn_preload_forked_workers_all_export() -> None:
    with otlp_sink() as sink:
        env = service_env(sink.url, "preload")
        with serve(gunicorn_preload(APP, 2), env) as service:
            answered = call_pid(service.url, 20)
            assert_every_worker_exports(sink, 2, answered)
    assert {s["resource"]["service.name"] for s in sink.spans} == {"preload"}


def test_under_opentelemetry_instrument_one_span_per_request() -> None:
    with otlp_sink() as sink:
        env = service_env(
            sink.url, "wrapped", OTEL_TRACES_EXPORTER="none", OTEL_LOGS_EXPORTER="none"
        )
        with serve([str(BIN / "opentelemetry-instrument"), *uvicorn(APP)], env) as service:
            answered = call_pid(service.url, 5)
            assert_every_worker_exports(sink, 1, answered)


def test_collector_refusing_drops_with_a_warning_after_bounded_retries() -> None:
    with otlp_sink("503") as sink:
        env = service_env(sink.url, "refused", OTEL_EXPORTER_OTLP_TIMEOUT="3")
        with serve(uvicorn(APP), env) as service:
            assert len(call_pid(service.url, 20)) == 20
            service.wait_for_stderr("Transient error Service Unavailable")  # retried...
            for signal in ("spans", "logs"):  # ...then dropped, with a warning
                service.wait_for_stderr(f"Failed to export {signal} batch")
            assert len(call_pid(service.url, 5)) == 5
            attempts = sink.attempts
    assert attempts <= 2 * 2 * 6  # bounded: at most 6 tries of each batch of spans and of logs


def test_collector_hanging_never_blocks_requests() -> None:
    with otlp_sink("hang") as hanging:
        env = service_env(hanging.url, "hanging", OTEL_EXPORTER_OTLP_TIMEOUT="2")
        with serve(uvicorn(APP), env) as service:
            assert len(call_pid(service.url, 20)) == 20
            hanging.wait_for(lambda s: s.attempts >= 1)
            assert len(call_pid(service.url, 5)) == 5  # still answering while an export hangs
            service.wait_for_stderr("Failed to export")


def test_collector_down_never_blocks_requests() -> None:
    env = service_env(f"http://127.0.0.1:{free_port()}", "down", OTEL_EXPORTER_OTLP_TIMEOUT="2")
    with serve(uvicorn(APP), env) as service:
        assert len(call_pid(service.url, 20)) == 20
        service.wait_for_stderr("Failed to export spans batch")
        service.wait_for_stderr("Failed to export logs batch")
        assert len(call_pid(service.url, 5)) == 5


def test_app_configured_providers_are_used_once_with_the_keys() -> None:
    """The app's own providers export each span and line once, with the business keys.

    Its batch processor waits a minute: the spans arrive only if SIGTERM flushes them.
    """
    with otlp_sink() as sink:
        env = service_env(sink.url, "preconfigured", OTEL_BSP_SCHEDULE_DELAY="60000")
        with serve(uvicorn("tests.instrumentation.apps.preconfigured:app"), env) as service:
            for order in ("o-1", "o-2"):
                assert httpx.get(f"{service.url}/orders/{order}", timeout=30).status_code == 200
    orders = [s for s in sink.spans if s["name"] == "GET /orders/{order_id}"]
    assert [(s["kind"], s["attributes"]["order.id"]) for s in orders] == [
        (SERVER, "o-1"),
        (SERVER, "o-2"),
    ]
    lines = [log for log in sink.logs if log["body"].startswith("order ")]
    assert [(log["body"], log["attributes"].get("order.id")) for log in lines] == [
        ("order o-1", "o-1"),
        ("order o-2", "o-2"),
    ]
    for log, span in zip(lines, orders, strict=True):
        assert (log["trace_id"], log["span_id"]) == (span["trace_id"], span["span_id"])
