"""The fast span path: raw OTLP trace requests read by ClickHouse's Protobuf input format."""

from __future__ import annotations

from importlib import resources

from google.protobuf.internal.encoder import _VarintBytes

TABLE = "clew_ingest_otlp_traces"
MESSAGE = "ExportTraceServiceRequest"
# Parallel views: the side-table views of otel_traces run side by side on the two cores.
SETTINGS = {"input_format_protobuf_oneof_presence": 1, "parallel_view_processing": 1}
# The input structure is the staging table's; read once from the store, then reused.
STRUCTURE = (
    "SELECT name, type FROM system.columns"
    " WHERE database = currentDatabase() AND table = {table:String} ORDER BY position"
)
# Requests (by position in the batch) that the staging view skips: the Python path takes them.
SLOW_REQUESTS = (
    "SELECT n FROM (SELECT rowNumberInAllBlocks() AS n,"
    " clew_request_is_fast(resource_spans) AS fast FROM {source}) WHERE NOT fast ORDER BY n"
)
INSERT = "INSERT INTO clew_ingest_otlp_traces SELECT * FROM {source}"


def schema_file() -> str:
    """Absolute path of otlp_trace.proto inside the installed package."""
    proto = resources.files("clew.collector.schema").joinpath("otlp_trace.proto")
    return str(proto)


def length_delimited(messages: list[bytes]) -> bytes:
    """Messages framed as ClickHouse's `Protobuf` format reads them: varint length, then bytes."""
    return b"".join(_VarintBytes(len(message)) + message for message in messages)
