"""A traced service for the process tests: reports its pid in spans, logs and answers."""

# ruff: noqa: I001
from __future__ import annotations

# The first import of the service, before FastAPI and the rest (keep it first).
import clew.instrumentation.auto  # noqa: F401

import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from opentelemetry import trace


log = logging.getLogger("worker")
log.setLevel(logging.INFO)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Each worker exports one span when it starts serving."""
    with trace.get_tracer(__name__).start_as_current_span("worker started") as span:
        span.set_attribute("worker.pid", os.getpid())
    yield


app = FastAPI(lifespan=lifespan)


@app.get("/health")
def health() -> dict[str, bool]:
    return {"ok": True}


@app.get("/pid")
def pid() -> dict[str, int]:
    trace.get_current_span().set_attribute("worker.pid", os.getpid())
    log.info("served by %s", os.getpid())
    return {"pid": os.getpid()}
