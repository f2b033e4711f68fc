"""bench/peers.py's own logic: what it reads from the servers, how it builds, what it prints."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

import peers_build
import peers_table
from peers_load import Step
from peers_systems import JaegerBadger, jaeger_config, metric_sum

OTELCOL = """\
# TYPE otelcol_receiver_accepted_spans_total counter
otelcol_receiver_accepted_spans_total{receiver="otlp",transport="grpc"} 1200
otelcol_receiver_accepted_spans_total{receiver="otlp",transport="http"} 300
otelcol_receiver_accepted_spans_total_other{receiver="otlp"} 7
otelcol_exporter_sent_spans_total{exporter="jaeger_storage_exporter"} 1.5e+03
"""


def test_metric_sum_adds_every_matching_sample_and_only_that_metric() -> None:
    accepted = metric_sum(OTELCOL, "otelcol_receiver_accepted_spans_total", 'receiver="otlp"')
    assert accepted == 1500
    assert metric_sum(OTELCOL, "otelcol_exporter_sent_spans_total") == 1500
    assert metric_sum(OTELCOL, "otelcol_receiver_refused_spans_total") == 0


def test_jaeger_config_listens_on_loopback_only() -> None:
    jaeger = JaegerBadger.__new__(JaegerBadger)
    jaeger.grpc, jaeger.http, jaeger.query, jaeger.metrics = 1, 2, 3, 4
    config = jaeger_config(jaeger, {"memory": {"max_traces": 10}})
    text = json.dumps(config)
    endpoints = [part.split('"')[0] for part in text.split('"endpoint": "')[1:]]
    assert endpoints and all(e.startswith("127.0.0.1:") for e in endpoints)
    assert config["extensions"]["jaeger_storage"]["backends"]["store"] == {
        "memory": {"max_traces": 10}
    }


def test_build_says_what_it_needs_without_go(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no go command here
    with pytest.raises(SystemExit, match="needs the go command"):
        peers_build.build(tmp_path / "cache")
    assert not (tmp_path / "cache").exists()


def test_table_has_a_ratio_per_peer_and_the_load_with_every_figure() -> None:
    def step(label: str, stored: float, cpu: float) -> Step:
        return Step(label, stored, stored, stored, 10.0, cpu, 2**30, 1.5)

    label = "telemetrygen paced 5,000 spans/s, 20s"
    ours = SimpleNamespace(name="clew", steps=[step(label, 1000, 1.0)], lookup_load=None,
                           lookup=(2.0, 4.0, 0.5), disk={})  # fmt: skip
    theirs = SimpleNamespace(name="peer", steps=[step(label, 1000, 2.0)], lookup_load=None,
                             lookup=(1.0, 2.0, 0.5), disk={})  # fmt: skip
    lines = peers_table.table([ours, theirs], 1000).splitlines()
    per_cpu = next(line for line in lines if "per server CPU-second" in line)
    assert per_cpu.split("|")[1:-1][1:] == [" 1,000 [1.5] ", " 500 [1.5] ", " 2.00x "]
    p50 = next(line for line in lines if "p50" in line)
    assert "2.0 [0.5]" in p50 and "2.00x" in p50
