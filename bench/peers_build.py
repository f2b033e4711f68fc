"""Builds the peers of bench/peers.py from the Go module proxy into a cache folder, pinned.

Nothing here is committed or vendored: the go command fetches each module at its pinned version
through the machine's GOPROXY and builds it with GOBIN, GOMODCACHE and GOCACHE inside the cache
folder (default ~/.cache/clew/peers), so deleting that folder removes every trace of the peers.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

CACHE = Path(os.environ.get("CLEW_PEERS_CACHE", Path.home() / ".cache" / "clew" / "peers"))
TELEMETRYGEN = "github.com/open-telemetry/opentelemetry-collector-contrib/cmd/telemetrygen"
TELEMETRYGEN_VERSION = "v0.161.0"
JAEGER = "github.com/jaegertracing/jaeger"
JAEGER_VERSION = "v1.75.0"  # Jaeger v2's all-in-one (cmd/jaeger) of the v1.75.0 module
NEEDS = (
    "bench/peers.py builds telemetrygen and Jaeger from the Go module proxy and needs the go "
    "command (Go 1.24 or newer) on PATH, with GOPROXY reaching a module proxy: install Go "
    "(Debian: apt-get install golang-go) and run it again"
)


@dataclass(frozen=True)
class Peers:
    """Paths of the built programs and the versions they were built from."""

    telemetrygen: Path
    jaeger: Path
    go_version: str

    def versions(self) -> str:
        return (
            f"telemetrygen {TELEMETRYGEN_VERSION} ({TELEMETRYGEN}), "
            f"Jaeger all-in-one from {JAEGER} {JAEGER_VERSION} (cmd/jaeger), {self.go_version}"
        )


def go_env(cache: Path) -> dict[str, str]:
    """The go command's environment: everything it downloads or builds stays in `cache`."""
    return {
        **os.environ,
        "GOBIN": str(cache / "bin"),
        "GOMODCACHE": str(cache / "gomod"),
        "GOCACHE": str(cache / "gocache"),
        "GOFLAGS": "-buildvcs=false -mod=readonly",
        "GOTOOLCHAIN": "local",  # the machine's Go; never a toolchain download
    }


def go(args: list[str], env: dict[str, str], cwd: Path | None = None) -> str:
    """Run the go command; its error output becomes the error when it fails."""
    done = subprocess.run(["go", *args], env=env, cwd=cwd, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"go {' '.join(args)} failed:\n{done.stderr[-4000:]}")
    return done.stdout


def build(cache: Path = CACHE) -> Peers:
    """Build both peers unless the cache already holds these versions."""
    if shutil.which("go") is None:
        raise SystemExit(NEEDS)
    env = go_env(cache)
    (cache / "bin").mkdir(parents=True, exist_ok=True)
    version = go(["version"], env).strip()
    telemetrygen = cache / "bin" / f"telemetrygen-{TELEMETRYGEN_VERSION}"
    if not telemetrygen.exists():
        print(f"building telemetrygen {TELEMETRYGEN_VERSION} into {cache} ...", flush=True)
        go(["install", f"{TELEMETRYGEN}@{TELEMETRYGEN_VERSION}"], env)
        (cache / "bin" / "telemetrygen").rename(telemetrygen)
    jaeger = cache / "bin" / f"jaeger-{JAEGER_VERSION}"
    if not jaeger.exists():
        print(f"building Jaeger {JAEGER_VERSION} (cmd/jaeger) into {cache} ...", flush=True)
        jaeger_source(env, jaeger)
    return Peers(telemetrygen=telemetrygen, jaeger=jaeger, go_version=version)


def jaeger_source(env: dict[str, str], out: Path) -> None:
    """Jaeger's go.mod has a replace directive, which `go install pkg@version` refuses: fetch
    the module at its version through the proxy and build cmd/jaeger inside it instead."""
    info = json.loads(go(["mod", "download", "-json", f"{JAEGER}@{JAEGER_VERSION}"], env))
    go(["build", "-trimpath", "-o", str(out), "./cmd/jaeger"], env, cwd=Path(info["Dir"]))


if __name__ == "__main__":
    print(build().versions())
