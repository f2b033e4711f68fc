"""A plain Starlette service for a process where FastAPI cannot be imported."""

# ruff: noqa: I001
from __future__ import annotations

# The first import of the service (keep it first).
import clew.instrumentation.auto  # noqa: F401

import importlib.util
import logging

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

import clew.instrumentation as ci

log = logging.getLogger("starlette-only")
log.setLevel(logging.INFO)


async def health(request: Request) -> JSONResponse:
    return JSONResponse({"fastapi": importlib.util.find_spec("fastapi") is not None})


async def order(request: Request) -> JSONResponse:
    order_id = request.path_params["order_id"]
    ci.business_context(order_id=order_id)
    log.info("order %s", order_id)
    if order_id == "boom":
        raise RuntimeError("starlette handler failed")
    return JSONResponse({"order": order_id})


app = Starlette(routes=[Route("/health", health), Route("/orders/{order_id}", order)])
