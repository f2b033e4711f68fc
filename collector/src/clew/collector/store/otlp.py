"""The fast span path: raw OTLP trace requests read by ClickHouse's Protobuf input format."""

from __future__ import annotations

from importlib import resources

from google.protobuf.internal.encoder import _VarintBytes

TABLE = "clew_ingest_otlp_traces"
MESSAGE = "ExportTraceServiceRequest"
# Parallel views: the side-table views of otel_traces run side by side on the two cores.
SETTINGS = {"input_format_protobuf_oneof_presence": 1, "parallel_view_processing": 1}
# The INSERT ... SELECT of a batch reads its source with one thread: with more, the blocks it
# forms differ from one attempt to the next, and ClickHouse's deduplication of the views'
# blocks then fails to recognise a retried batch (the writer's retry after a lost answer was
# stored twice: 200 spans in the Kafka ClickHouse-down test, about one run in three).
ONE_READER = {"max_threads": 1, "max_insert_threads": 1}
# The input structure is the staging table's columns that an INSERT fills (not clew_fast,
# which the table works out itself); read once from the store, then reused.
STRUCTURE = (
    "SELECT name, type FROM system.columns WHERE database = currentDatabase()"
    " AND table = {table:String} AND default_kind != 'MATERIALIZED' ORDER BY position"
)
# Requests (by position in the batch) that the staging view skips: the Python path takes them.
# {source} is made AS the staging table, so it works out clew_fast as the requests arrive.
SLOW_REQUESTS = (
    "SELECT n FROM (SELECT rowNumberInAllBlocks() AS n, clew_fast FROM {source})"
    " WHERE NOT clew_fast ORDER BY n"
)
INSERT = "INSERT INTO clew_ingest_otlp_traces SELECT * FROM {source}"
# With marked requests (marked()): the positions the staging view skipped, recorded by schema/008.
SKIPPED = (
    "SELECT Position FROM clew_ingest_otlp_skipped WHERE Batch = {batch:UInt64} ORDER BY Position"
)
_BATCH_TAG = _VarintBytes((536870910 << 3) | 1)  # fixed64 clew_batch
_POSITION_TAG = _VarintBytes(536870911 << 3)  # varint clew_position


def schema_file() -> str:
    """Absolute path of otlp_trace.proto inside the installed package."""
    proto = resources.files("clew.collector.schema").joinpath("otlp_trace.proto")
    return str(proto)


def marked(messages: list[bytes], batch: int) -> list[bytes]:
    """Each message with clew_batch and clew_position appended (protobuf merges trailing fields)."""
    stamp = _BATCH_TAG + batch.to_bytes(8, "little")
    return [
        message + stamp + _POSITION_TAG + _VarintBytes(position)
        for position, message in enumerate(messages)
    ]


def length_delimited(messages: list[bytes]) -> bytes:
    """Messages framed as ClickHouse's `Protobuf` format reads them: varint length, then bytes."""
    return b"".join(_VarintBytes(len(message)) + message for message in messages)
