"""OTLP/gRPC: TraceService/Export and LogsService/Export; metrics stay UNIMPLEMENTED.

Requests arrive as raw bytes (no generated deserializer) so undecodable data is answered with
INVALID_ARGUMENT, as OTLP asks, rather than grpc's INTERNAL.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent import futures

import grpc
from google.protobuf.message import Message

from clew.collector import decode
from clew.collector.errors import BufferFull, DecodeError, Unauthenticated
from clew.collector.limits import DEFAULT_LIMITS, Limits
from clew.collector.pipeline import Pipeline
from clew.collector.receive import export_response
from clew.common.auth import RefusalLog, TokenCheck

TRACE_SERVICE = "opentelemetry.proto.collector.trace.v1.TraceService"
LOGS_SERVICE = "opentelemetry.proto.collector.logs.v1.LogsService"

Handler = Callable[[bytes, grpc.ServicerContext], Message]


Decoder = Callable[[bytes, str, Limits], decode.Decoded]


def _export(pipeline: Pipeline, signal: str, decoder: Decoder, limits: Limits) -> Handler:
    def export(body: bytes, context: grpc.ServicerContext) -> Message:
        decoded = _decode(pipeline, signal, context, lambda: decoder(body, decode.PROTOBUF, limits))
        _accept(pipeline, signal, decoded, context)
        return export_response(signal, decoded)

    return export


def _decode(
    pipeline: Pipeline,
    signal: str,
    context: grpc.ServicerContext,
    run: Callable[[], decode.Decoded],
) -> decode.Decoded:
    try:
        return run()
    except DecodeError as exc:
        pipeline.metrics.refused_requests.labels(signal, exc.reason).inc()
        context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))
        raise  # abort raises; this line only satisfies the type checker


def _accept(
    pipeline: Pipeline, signal: str, decoded: decode.Decoded, context: grpc.ServicerContext
) -> None:
    try:
        pipeline.accept(signal, decoded)
    except BufferFull as exc:
        pipeline.metrics.refused_requests.labels(signal, exc.reason).inc()
        # UNAVAILABLE is retryable for OTLP clients; they back off and resend.
        context.abort(grpc.StatusCode.UNAVAILABLE, str(exc))


def _service(name: str, handler: Handler) -> grpc.GenericRpcHandler:
    method = grpc.unary_unary_rpc_method_handler(
        handler, request_deserializer=None, response_serializer=lambda m: m.SerializeToString()
    )
    return grpc.method_handlers_generic_handler(name, {"Export": method})


log = logging.getLogger("clew.collector.receive")


class _TokenInterceptor(grpc.ServerInterceptor):  # type: ignore[misc]
    """Refuses a call without the configured token in its `authorization` metadata."""

    def __init__(self, pipeline: Pipeline, check: TokenCheck) -> None:
        self._pipeline, self._check = pipeline, check
        self._refusals = RefusalLog(log, "ingest")

    def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], grpc.RpcMethodHandler | None],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler | None:
        metadata = dict(details.invocation_metadata or ())
        header = metadata.get("authorization")
        if self._check.header_ok(header if isinstance(header, str) else None):
            return continuation(details)
        signal = "logs" if details.method.startswith(f"/{LOGS_SERVICE}/") else "spans"
        return grpc.unary_unary_rpc_method_handler(self._refuse(signal))

    def _refuse(self, signal: str) -> Callable[[bytes, grpc.ServicerContext], Message]:
        def refuse(_: bytes, context: grpc.ServicerContext) -> Message:
            error = Unauthenticated("a valid bearer token is required (authorization metadata)")
            self._pipeline.metrics.refused_requests.labels(signal, error.reason).inc()
            self._refusals.refused(context.peer())
            context.abort(grpc.StatusCode.UNAUTHENTICATED, str(error))
            raise error  # abort raises; this line only satisfies the type checker

        return refuse


def create_server(
    pipeline: Pipeline,
    host: str,
    port: int,
    limits: Limits = DEFAULT_LIMITS,
    *,
    token: TokenCheck | None = None,
    tls: tuple[bytes, bytes] | None = None,
) -> tuple[grpc.Server, int]:
    """A started-ready (not yet started) gRPC server and the port it bound.

    `token`: calls must carry it; `tls`: (private key, certificate chain) PEM, else plain text.
    """
    interceptors = [_TokenInterceptor(pipeline, token)] if token and token.enabled else []
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=8, thread_name_prefix="otlp-grpc"),
        handlers=[
            _service(TRACE_SERVICE, _export(pipeline, "spans", decode.spans, limits)),
            _service(LOGS_SERVICE, _export(pipeline, "logs", decode.logs, limits)),
        ],
        options=[("grpc.max_receive_message_length", limits.max_body_bytes)],
        interceptors=interceptors,
    )
    address = f"{host}:{port}"
    if tls is None:
        return server, server.add_insecure_port(address)
    return server, server.add_secure_port(address, grpc.ssl_server_credentials([tls]))
