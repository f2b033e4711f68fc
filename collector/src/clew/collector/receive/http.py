"""OTLP/HTTP: POST /v1/traces and /v1/logs, protobuf or JSON, gzip or not; /healthz, /metrics."""

from __future__ import annotations

import logging
import zlib
from collections.abc import Callable

from fastapi import APIRouter, FastAPI, Request, Response
from google.protobuf import json_format
from google.protobuf.message import Message
from google.rpc.status_pb2 import Status
from prometheus_client import CONTENT_TYPE_LATEST

from clew.collector import decode
from clew.collector.errors import (
    BodyTooLarge,
    CollectorError,
    DecodeError,
    Unauthenticated,
    UnsupportedMediaType,
)
from clew.collector.limits import DEFAULT_LIMITS, Limits
from clew.collector.pipeline import Pipeline
from clew.collector.receive import export_response
from clew.common.auth import CHALLENGE, RefusalLog, TokenCheck

RETRY_AFTER_SECONDS = "1"
log = logging.getLogger("clew.collector.receive")


def router(pipeline: Pipeline, limits: Limits, token: TokenCheck | None = None) -> APIRouter:
    """The receiver's routes over one pipeline; with `token`, exports and /metrics need it."""
    routes = APIRouter()
    check = token or TokenCheck(None)
    refusals = RefusalLog(log, "ingest")

    async def export(
        request: Request, signal: str, decoder: Callable[[bytes, str, Limits], decode.Decoded]
    ) -> Response:
        content_type = request.headers.get("content-type", "")
        try:
            _authenticate(check, request, refusals)  # before reading: a stranger's body is not read
            media = decode.media_type(content_type)
            body = await _read_body(request, limits.max_body_bytes)
            decoded = decoder(body, media, limits)
            await pipeline.accept_async(signal, decoded)
        except CollectorError as exc:
            pipeline.metrics.refused_requests.labels(signal, exc.reason).inc()
            return _error(exc, content_type)
        return _message(export_response(signal, decoded), media)

    @routes.post("/v1/traces")
    async def traces(request: Request) -> Response:
        return await export(request, "spans", decode.spans)

    @routes.post("/v1/logs")
    async def logs(request: Request) -> Response:
        return await export(request, "logs", decode.logs)

    @routes.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @routes.get("/metrics")
    async def metrics(request: Request) -> Response:
        # Behind the ingest token too: Prometheus sends it (authorization: credentials).
        if not check.header_ok(request.headers.get("authorization")):
            return Response("unauthenticated\n", 401, headers={"WWW-Authenticate": CHALLENGE})
        pipeline.update_gauges()
        return Response(pipeline.metrics.render(), media_type=CONTENT_TYPE_LATEST)

    return routes


def create_app(
    pipeline: Pipeline, limits: Limits = DEFAULT_LIMITS, token: TokenCheck | None = None
) -> FastAPI:
    """A FastAPI app serving only the receiver (app.py adds the lifespan)."""
    app = FastAPI(title="clew collector", docs_url=None, redoc_url=None, openapi_url=None)
    app.include_router(router(pipeline, limits, token))
    return app


def _authenticate(check: TokenCheck, request: Request, refusals: RefusalLog) -> None:
    if not check.header_ok(request.headers.get("authorization")):
        refusals.refused(request.client.host if request.client else "unknown")
        raise Unauthenticated("a valid bearer token is required (Authorization: Bearer ...)")


async def _read_body(request: Request, limit: int) -> bytes:
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("gzip", "identity", ""):
        raise UnsupportedMediaType(f"unsupported content encoding {encoding!r}")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(f"body larger than {limit} bytes")
        chunks.append(chunk)
    body = b"".join(chunks)
    return _gunzip(body, limit) if encoding == "gzip" else body


def _gunzip(body: bytes, limit: int) -> bytes:
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        # One byte past the limit tells "too large" apart from "exactly the limit".
        out = inflater.decompress(body, limit + 1)
    except zlib.error as exc:
        raise DecodeError(f"body is not valid gzip: {exc}") from exc
    if len(out) > limit:
        raise BodyTooLarge(f"body larger than {limit} bytes after decompression")
    if not inflater.eof:
        raise DecodeError("gzip body is truncated")
    return out


def _message(message: Message, media: str, status: int = 200) -> Response:
    if media == decode.JSON:
        return Response(json_format.MessageToJson(message, indent=None), status, media_type=media)
    return Response(message.SerializeToString(), status, media_type=decode.PROTOBUF)


def _error(exc: CollectorError, content_type: str) -> Response:
    try:
        media = decode.media_type(content_type)
    except UnsupportedMediaType:
        media = decode.JSON  # the client's encoding is unknown; JSON is readable by anyone
    status = Status(code=_RPC_CODES.get(exc.http_status, 13), message=str(exc))
    response = _message(status, media, exc.http_status)
    if exc.retriable:
        response.headers["Retry-After"] = RETRY_AFTER_SECONDS
    if isinstance(exc, Unauthenticated):
        response.headers["WWW-Authenticate"] = CHALLENGE
    return response


# google.rpc.Code for each HTTP status the receiver answers with.
_RPC_CODES = {400: 3, 401: 16, 413: 8, 415: 3, 503: 14}
