"""clew demo's process handling: groups stopped whole, children that die with the demo, ports."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from clew.demo import services
from clew.demo.stack import Stack, StartError, port_in_use, wait_http
from tests.demo import procs
from tests.support.ports import free_port


def test_stop_ends_the_whole_group_even_what_ignores_sigterm(tmp_path: Path) -> None:
    stack = Stack(tmp_path)
    # The leader exits on SIGTERM; its child ignores SIGTERM and would outlive it.
    script = "trap '' TERM; sleep 300 & echo $! > child.pid; trap - TERM; wait"
    child = stack.start("shell", ["sh", "-c", f"cd {tmp_path} && {script}"], {})
    for _ in range(100):
        if (tmp_path / "child.pid").exists() and (tmp_path / "child.pid").read_text().strip():
            break
        time.sleep(0.05)
    grandchild = int((tmp_path / "child.pid").read_text())
    assert os.getpgid(grandchild) == child.process.pid
    stack.stop()
    for _ in range(100):  # SIGKILL is delivered asynchronously
        if not procs.alive({grandchild}, {child.process.pid}):
            break
        time.sleep(0.05)
    assert procs.alive({grandchild}, {child.process.pid}) == []
    assert stack.children == []


def test_a_process_that_exits_early_is_reported_with_its_log(tmp_path: Path) -> None:
    stack = Stack(tmp_path)
    child = stack.start(
        "broken", [sys.executable, "-c", "print('no config here'); raise SystemExit(3)"], {}
    )
    with pytest.raises(StartError, match=r"(?s)exited with status 3.*no config here"):
        wait_http(child, f"http://127.0.0.1:{free_port()}/healthz", timeout=30)
    stack.stop()


def test_children_get_sigterm_when_the_demo_is_killed(tmp_path: Path) -> None:
    parent = textwrap.dedent(f"""
        import sys, time
        from pathlib import Path
        from clew.demo.stack import Stack
        child = Stack(Path({str(tmp_path)!r})).start("sleeper", ["sleep", "300"], {{}})
        print(child.process.pid, flush=True)
        time.sleep(300)
    """)
    demo = subprocess.Popen([sys.executable, "-c", parent], stdout=subprocess.PIPE, text=True)
    assert demo.stdout is not None
    sleeper = int(demo.stdout.readline())
    assert procs.alive({sleeper}, set()) == [sleeper]
    demo.send_signal(signal.SIGKILL)  # no chance to stop anything itself
    demo.wait()
    for _ in range(100):
        if not procs.alive({sleeper}, set()):
            break
        time.sleep(0.05)
    assert procs.alive({sleeper}, set()) == []


def test_port_in_use() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        assert port_in_use("127.0.0.1", listener.getsockname()[1])
    assert not port_in_use("127.0.0.1", free_port())


def test_demo_refuses_a_port_another_server_holds(tmp_path: Path) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        clew = str(Path(sys.executable).with_name("clew"))
        argv = [clew, "demo", "--data-dir", str(tmp_path), "--http-port", str(port),
                "--grpc-port", str(free_port()), "--ui-port", str(free_port())]  # fmt: skip
        done = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert f"port {port} on 127.0.0.1 is in use" in done.stderr
    assert not (tmp_path / "demo-logs").exists()


def test_demo_without_java_says_what_to_install_before_starting_anything(tmp_path: Path) -> None:
    clew = Path(sys.executable).with_name("clew")
    env = {k: v for k, v in os.environ.items() if k not in ("JAVA_HOME", "KAFKA_BOOTSTRAP_SERVERS")}
    env["PATH"] = str(clew.parent)  # the installation's own commands, and no java
    argv = [str(clew), "demo", "--data-dir", str(tmp_path), "--http-port", str(free_port()),
            "--grpc-port", str(free_port()), "--ui-port", str(free_port())]  # fmt: skip
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 1, done.stderr
    assert "needs Java 17" in done.stderr and "KAFKA_BOOTSTRAP_SERVERS" in done.stderr
    assert not (tmp_path / "demo-logs").exists()


def test_a_given_broker_is_used_and_none_is_started(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "broker.example:9092")
    monkeypatch.setenv("CLEW_KAFKA_BROKER_SCRIPT", str(tmp_path / "absent"))
    stack = Stack(tmp_path / "logs")
    assert services.start_kafka(stack, tmp_path) == "broker.example:9092"
    assert stack.children == []


@pytest.mark.kafka
def test_ctrl_c_while_the_broker_starts_stops_everything(tmp_path: Path) -> None:
    clew = str(Path(sys.executable).with_name("clew"))
    argv = [clew, "demo", "--data-dir", str(tmp_path), "--http-port", str(free_port()),
            "--grpc-port", str(free_port()), "--ui-port", str(free_port())]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k != "KAFKA_BOOTSTRAP_SERVERS"}
    demo = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True, env=env)
    assert demo.stdout is not None
    try:
        for line in demo.stdout:  # clew serve is up once the demo starts the broker
            if line.startswith("starting Kafka"):
                break
        started: list[procs.Proc] = []
        for _ in range(300):  # clew serve, the broker script, and soon its JVM
            started = [p for p in procs.tree(demo.pid) if p.pid != demo.pid]
            if len(started) >= 2:
                break
            time.sleep(0.1)
        assert len(started) >= 2, started
        demo.send_signal(signal.SIGINT)
        assert demo.wait(120) == 0
    finally:
        if demo.poll() is None:
            demo.kill()
    pids, groups = {p.pid for p in started}, {p.group for p in started}
    assert procs.gone(pids, groups - {os.getpgid(0)}) == []
