"""OTLP/gRPC: TraceService/Export and LogsService/Export; metrics stay UNIMPLEMENTED.

Requests arrive as raw bytes (no generated deserializer) so undecodable data is answered with
INVALID_ARGUMENT, as OTLP asks, rather than grpc's INTERNAL.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent import futures

import grpc
from google.protobuf.message import Message

from clew.collector import decode
from clew.collector.errors import BufferFull, DecodeError
from clew.collector.pipeline import Pipeline
from clew.collector.receive import export_response

TRACE_SERVICE = "opentelemetry.proto.collector.trace.v1.TraceService"
LOGS_SERVICE = "opentelemetry.proto.collector.logs.v1.LogsService"

Handler = Callable[[bytes, grpc.ServicerContext], Message]


def _traces(pipeline: Pipeline) -> Handler:
    def export(body: bytes, context: grpc.ServicerContext) -> Message:
        decoded = _decode(pipeline, "spans", context, lambda: decode.spans(body, decode.PROTOBUF))
        _accept(pipeline, "spans", decoded, context)
        return export_response("spans", decoded)

    return export


def _logs(pipeline: Pipeline) -> Handler:
    def export(body: bytes, context: grpc.ServicerContext) -> Message:
        decoded = _decode(pipeline, "logs", context, lambda: decode.logs(body, decode.PROTOBUF))
        _accept(pipeline, "logs", decoded, context)
        return export_response("logs", decoded)

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


def create_server(
    pipeline: Pipeline, host: str, port: int, max_body_bytes: int
) -> tuple[grpc.Server, int]:
    """A started-ready (not yet started) gRPC server and the port it bound."""
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=8, thread_name_prefix="otlp-grpc"),
        handlers=[
            _service(TRACE_SERVICE, _traces(pipeline)),
            _service(LOGS_SERVICE, _logs(pipeline)),
        ],
        options=[("grpc.max_receive_message_length", max_body_bytes)],
    )
    bound = server.add_insecure_port(f"{host}:{port}")
    return server, bound
