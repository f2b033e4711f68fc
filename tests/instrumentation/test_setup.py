"""setup(): the OTEL_* variables, idempotence, and politeness to an existing configuration."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

from clew.instrumentation import ConfigurationError, _export
from tests.instrumentation.helpers import run_python
from tests.instrumentation.otlp_sink import otlp_sink
from tests.support.ports import free_port

# A FastAPI app served through TestClient; prints server span count per request.
SERVE_TWICE = """
from fastapi.testclient import TestClient
client = TestClient(app)
assert client.get("/ping").status_code == 200
assert client.get("/ping").status_code == 200
report()
"""
APP = """
app = FastAPI()

@app.get("/ping")
def ping():
    return {"ok": True}
"""


def server_spans(result: dict[str, list[dict[str, object]]]) -> list[dict[str, object]]:
    return [s for s in result["spans"] if s["kind"] == "SERVER"]


def test_resource_from_environment() -> None:
    result = run_python(
        "import clew.instrumentation as ci\nci.setup(span_exporter=SPANS, log_exporter=LOGS)\n"
        "from fastapi import FastAPI\n" + APP + SERVE_TWICE,
        env={
            "OTEL_SERVICE_NAME": "svc-a",
            "OTEL_RESOURCE_ATTRIBUTES": "deployment.environment=test",
        },
    )
    resource = server_spans(result)[0]["resource"]
    assert resource["service.name"] == "svc-a"  # type: ignore[index]
    assert resource["deployment.environment"] == "test"  # type: ignore[index]


def test_explicit_service_name_wins() -> None:
    result = run_python(
        "import clew.instrumentation as ci\n"
        "ci.setup(service_name='explicit', span_exporter=SPANS, log_exporter=LOGS)\n"
        "from fastapi import FastAPI\n" + APP + SERVE_TWICE,
        env={"OTEL_SERVICE_NAME": "from-env"},
    )
    assert server_spans(result)[0]["resource"]["service.name"] == "explicit"  # type: ignore[index]


def test_sdk_disabled_configures_nothing() -> None:
    result = run_python(
        "import clew.instrumentation as ci\n"
        "configured = ci.setup(span_exporter=SPANS, log_exporter=LOGS)\n"
        "import fastapi\nfrom fastapi import FastAPI\n"
        + APP
        + SERVE_TWICE.replace(
            "report()", "report(configured=configured, cls=fastapi.FastAPI.__name__)"
        ),
        env={"OTEL_SDK_DISABLED": "true"},
    )
    assert result == {"spans": [], "logs": [], "configured": False, "cls": "FastAPI"}


def test_sampler_from_environment() -> None:
    result = run_python(
        "import clew.instrumentation as ci\nci.setup(span_exporter=SPANS, log_exporter=LOGS)\n"
        "from fastapi import FastAPI\n" + APP + SERVE_TWICE,
        env={"OTEL_TRACES_SAMPLER": "always_off"},
    )
    assert result["spans"] == []


def test_second_setup_changes_nothing() -> None:
    result = run_python(
        "import clew.instrumentation as ci\n"
        "first = ci.setup(span_exporter=SPANS, log_exporter=LOGS)\n"
        "second = ci.setup(service_name='other')\nimport clew.instrumentation.auto\n"
        "from fastapi import FastAPI\n"
        + APP
        + SERVE_TWICE.replace("report()", "report(first=first, second=second)")
    )
    assert (result["first"], result["second"]) == (True, False)
    assert len(server_spans(result)) == 2


def test_fastapi_imported_before_clew_gets_one_server_span() -> None:
    result = run_python(
        "from fastapi import FastAPI\nimport fastapi\n"
        "import clew.instrumentation as ci\nci.setup(span_exporter=SPANS, log_exporter=LOGS)\n"
        + APP
        + "\nother = fastapi.FastAPI()\n"
        + SERVE_TWICE
    )
    assert [s["name"] for s in server_spans(result)] == ["GET /ping", "GET /ping"]
    assert not [s for s in result["spans"] if "http send" in str(s["name"])]


def test_app_configured_tracer_provider_is_reused() -> None:
    result = run_python(
        """
        from opentelemetry import trace
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor
        APP_SPANS = InMemorySpanExporter()
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(APP_SPANS))
        trace.set_tracer_provider(provider)
        import clew.instrumentation as ci
        ci.setup(span_exporter=SPANS, log_exporter=LOGS)
        from fastapi import FastAPI
        app = FastAPI()

        @app.get("/ping")
        def ping():
            ci.business_context(order_id="o-7")
            return {}

        from fastapi.testclient import TestClient
        TestClient(app).get("/ping")
        report(app_spans=[(s.kind.name, s.attributes.get("order.id"))
                          for s in APP_SPANS.get_finished_spans()])
        """
    )
    assert result["spans"] == []  # clew added no second exporter
    assert result["app_spans"] == [["SERVER", "o-7"]]


def test_under_opentelemetry_instrument_spans_are_not_doubled() -> None:
    wrapper = Path(sys.executable).parent / "opentelemetry-instrument"
    result = run_python(
        "import clew.instrumentation as ci\nci.setup(span_exporter=SPANS, log_exporter=LOGS)\n"
        "import aiokafka\nfrom fastapi import FastAPI\n"
        + APP
        + SERVE_TWICE.replace(
            "report()", "report(getone=aiokafka.AIOKafkaConsumer.getone._self_wrapper.__module__)"
        ),
        env={f"OTEL_{signal}_EXPORTER": "none" for signal in ("TRACES", "LOGS", "METRICS")},
        argv0=[str(wrapper)],
    )
    assert len(server_spans(result)) == 2
    assert result["getone"] == "clew.instrumentation.kafka._wrappers"  # not contrib's on top


def test_protocol_selects_exporter(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", raising=False)
    http = _export.span_exporter(None)
    assert isinstance(http, OTLPSpanExporter)
    assert http._endpoint == "http://localhost:4318/v1/traces"  # type: ignore[attr-defined]
    assert _export.span_exporter("http://127.0.0.1:5/")._endpoint == "http://127.0.0.1:5/v1/traces"  # type: ignore[attr-defined]
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
    assert type(_export.span_exporter(None)).__module__.endswith("grpc.trace_exporter")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_LOGS_PROTOCOL", "http/protobuf")
    assert isinstance(_export.log_exporter(None), OTLPLogExporter)


def test_unsupported_protocol_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/json")
    with pytest.raises(ConfigurationError, match="http/json"):
        _export.span_exporter(None)


def test_propagators_from_environment() -> None:
    code = """
        import clew.instrumentation as ci
        ci.setup(span_exporter=SPANS, log_exporter=LOGS)
        from opentelemetry import propagate, trace
        headers = {}
        with trace.get_tracer("t").start_as_current_span("s"), ci.business_context(order_id="o"):
            propagate.inject(headers)
        print(json.dumps(sorted(headers)))
    """
    assert run_python(code) == ["baggage", "traceparent"]  # W3C trace context and baggage
    assert run_python(code, env={"OTEL_PROPAGATORS": "tracecontext"}) == ["traceparent"]


def test_app_configured_log_handler_is_not_doubled() -> None:
    result = run_python(
        """
        import logging
        from opentelemetry._logs import set_logger_provider
        from opentelemetry.instrumentation.logging.handler import LoggingHandler
        from opentelemetry.sdk._logs import LoggerProvider
        from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
        APP_LOGS = InMemoryLogRecordExporter()
        provider = LoggerProvider()
        provider.add_log_record_processor(SimpleLogRecordProcessor(APP_LOGS))
        set_logger_provider(provider)
        logging.getLogger().addHandler(LoggingHandler(logger_provider=provider))
        import clew.instrumentation as ci
        ci.setup(span_exporter=SPANS, log_exporter=LOGS)
        logging.getLogger("app").warning("once")
        report(app_logs=[str(r.log_record.body) for r in APP_LOGS.get_finished_logs()])
        """
    )
    assert result["app_logs"] == ["once"]
    assert result["logs"] == []  # clew added no second exporter either


def test_per_signal_endpoints_win_over_the_base_endpoint() -> None:
    """OTEL_EXPORTER_OTLP_{TRACES,LOGS}_ENDPOINT are full URLs; the base one has a dead port."""
    with otlp_sink() as sink:
        run_python(
            """
            import logging
            import clew.instrumentation as ci
            ci.setup()
            from opentelemetry import trace
            with trace.get_tracer("t").start_as_current_span("per-signal span"):
                logging.getLogger("app").warning("per-signal line")
            ci.shutdown()
            print(json.dumps({}))
            """,
            env={
                "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{free_port()}",
                "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": f"{sink.url}/v1/traces",
                "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT": f"{sink.url}/v1/logs",
            },
        )
    assert [s["name"] for s in sink.spans] == ["per-signal span"]
    assert [r["body"] for r in sink.logs] == ["per-signal line"]


@pytest.mark.parametrize(
    "wrapper", [[], ["opentelemetry-instrument"]], ids=["plain", "under-opentelemetry-instrument"]
)
def test_sdk_logging_variable_without_a_distro_still_exports_each_line_once(
    wrapper: list[str],
) -> None:
    """OTEL_PYTHON_LOGGING_AUTO_INSTRUMENTATION_ENABLED=true leaves the handler to a distro."""
    result = run_python(
        """
        import logging
        import clew.instrumentation as ci
        ci.setup(span_exporter=SPANS, log_exporter=LOGS)
        logging.getLogger("app").warning("once")
        report()
        """,
        env={
            "OTEL_PYTHON_LOGGING_AUTO_INSTRUMENTATION_ENABLED": "true",
            **{f"OTEL_{signal}_EXPORTER": "none" for signal in ("TRACES", "LOGS", "METRICS")},
        },
        argv0=[str(Path(sys.executable).parent / name) for name in wrapper],
    )
    assert [log["body"] for log in result["logs"]] == ["once"]
