"""The embedded backend: ClickHouse in-process through chDB, data in one local folder."""

from __future__ import annotations

import contextlib
import hashlib
import os
import queue
import re
import secrets
import tempfile
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson
from chdb import session as chdb_session

from clew.collector.errors import StoreError
from clew.collector.store import otlp
from clew.collector.store.params import encode
from clew.common.store import QueryResult

_SETTING_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# JSON numbers for 64-bit integers, so results carry int rather than str.
_OUTPUT_SETTINGS = {"output_format_json_quote_64bit_integers": 0}
# Inserts go into Null tables; their views' target tables must recognise a repeated token too.
DEDUP_SETTINGS = {"deduplicate_blocks_in_dependent_materialized_views": 1}


# Every table's parts below 10 MiB (uncompressed, as min_bytes_for_wide_part counts) are
# written as one file, ClickHouse's packed part storage, instead of a file per column, index
# and metadata item (10 to 20 a part). Each INSERT writes a part into a dozen tables, and merges
# delete as many soon after: on this machine's ext4 (no journal) a fifth of the server's CPU at
# 5,000 spans/s went to finding free inodes past the recently deleted ones (docs/adr/0007,
# session 10). Bigger parts, merged ones, keep a file per column, as before.
TABLE_SETTINGS = {"min_bytes_for_full_part_storage": 10 * 2**20}

READERS = 3
"""Sessions that answer SELECTs. chDB runs the queries of different sessions of one engine in
parallel, so the UI's requests, and the independent reads of one page, neither queue behind
each other nor behind a write (a trace's spans and its logs together: about a third faster)."""


class ChdbStore:
    """chDB sessions on one data folder: one for writes and DDL behind a lock, and READERS for
    SELECTs, each used by one thread at a time (a session is not safe to share between threads).
    """

    table_settings: Mapping[str, int] = TABLE_SETTINGS

    def __init__(self, data_dir: Path, readers: int = READERS) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self.data_dir = data_dir
        self._lock = threading.Lock()
        self._session: chdb_session.Session | None = chdb_session.Session(str(data_dir))  # type: ignore[no-untyped-call]
        # A free reader is taken from the queue and put back after its query; a closed store
        # holds None in their place, so a read after close() fails instead of waiting.
        self._readers: queue.Queue[chdb_session.Session | None] = queue.Queue()
        self._reader_count = readers
        for _ in range(readers):
            self._readers.put(chdb_session.Session(str(data_dir)))  # type: ignore[no-untyped-call]
        self._otlp_source = ""

    def query(
        self,
        sql: str,
        parameters: Mapping[str, Any] | None = None,
        *,
        settings: Mapping[str, Any] | None = None,
    ) -> QueryResult:
        """Run a SELECT; results as documented on `Store`."""
        text = sql.rstrip().rstrip(";") + _settings_clause({**_OUTPUT_SETTINGS, **(settings or {})})
        raw = self._read(text, "JSONCompact", parameters)
        if not raw:
            return QueryResult(column_names=())
        doc = orjson.loads(raw)  # several times the stdlib's speed on wide rows
        names = tuple(column["name"] for column in doc["meta"])
        return QueryResult(column_names=names, rows=[tuple(row) for row in doc["data"]])

    def command(self, sql: str, parameters: Mapping[str, Any] | None = None) -> None:
        """Run a statement that returns no rows."""
        self._run(sql, "CSV", parameters)

    def insert(
        self, table: str, data: str, fmt: str = "JSONEachRow", *, token: str | None = None
    ) -> None:
        """Insert rows already encoded in `fmt`; a retry with the same `token` is stored once.

        Deduplication needs the target tables' non_replicated_deduplication_window
        (schema/010); the token reaches the tables behind the ingest views too.
        """
        if not _SETTING_NAME.match(table) or not _SETTING_NAME.match(fmt):
            raise StoreError(f"bad table or format name: {table!r} {fmt!r}")
        settings = _settings_clause(_dedup_settings(token))
        self._run(f"INSERT INTO {table}{settings} FORMAT {fmt}\n{data}", "CSV", None)

    def insert_otlp_traces(self, messages: list[bytes]) -> list[int]:
        """Insert raw ExportTraceServiceRequest messages; the positions of those it skipped.

        ClickHouse reads the bytes from a temporary file; skipped requests (nested AnyValue
        arrays or maps, invalid ids) are left for the caller's Python path. The insert's token
        is the digest of the requests, as on the server store: the same batch is stored once.
        """
        batch = secrets.randbits(63) + 1  # never 0: unmarked requests are not recorded
        fd, path = tempfile.mkstemp(prefix="clew-otlp-", suffix=".bin", dir=_scratch_dir())
        try:
            with os.fdopen(fd, "wb") as scratch:
                scratch.write(otlp.length_delimited(otlp.marked(messages, batch)))
            source = self._protobuf_source(path)
            settings = {
                **otlp.SETTINGS,
                **otlp.ONE_READER,
                **_dedup_settings(_digest(messages)),
                "format_schema": f"{otlp.schema_file()}:{otlp.MESSAGE}",
            }
            self.command(otlp.INSERT.format(source=source) + _settings_clause(settings))
        finally:
            os.unlink(path)
        return [int(row[0]) for row in self.query(otlp.SKIPPED, {"batch": batch}).rows]

    def _protobuf_source(self, path: str) -> str:
        if not self._otlp_source:
            columns = self.query(otlp.STRUCTURE, {"table": otlp.TABLE}).rows
            self._otlp_source = ", ".join(f"{name} {kind}" for name, kind in columns)
        # Both parts are ours (a mkstemp name, the staging table's structure), not input.
        return f"file({_quote(path)}, 'Protobuf', {_quote(self._otlp_source)})"

    def close(self) -> None:
        """Close the chDB sessions once their statements are done, releasing the data folder
        for another process."""
        with self._lock:
            if self._session is None:
                return
            # Each get waits for a read under way to finish; all are taken before any None is
            # put back, so none is taken twice.
            readers = [self._readers.get() for _ in range(self._reader_count)]
            for reader in readers:
                if reader is not None:
                    reader.close()  # type: ignore[no-untyped-call]
            for _ in readers:
                self._readers.put(None)
            self._session.close()  # type: ignore[no-untyped-call]
            self._session = None

    def _run(self, sql: str, fmt: str, parameters: Mapping[str, Any] | None) -> bytes:
        with self._lock:
            if self._session is None:
                raise StoreError("store is closed")
            return _execute(self._session, sql, fmt, parameters)

    def _read(self, sql: str, fmt: str, parameters: Mapping[str, Any] | None) -> bytes:
        reader = self._readers.get()
        try:
            if reader is None:
                raise StoreError("store is closed")
            return _execute(reader, sql, fmt, parameters)
        finally:
            self._readers.put(reader)


def _execute(
    session: chdb_session.Session, sql: str, fmt: str, parameters: Mapping[str, Any] | None
) -> bytes:
    try:
        result = session.query(sql, fmt, params=encode(parameters))  # type: ignore[no-untyped-call]
    except Exception as exc:  # chDB raises bare RuntimeError/ChdbError subclasses
        _discard_partial_output(session)
        raise StoreError(str(exc)) from exc
    return bytes(result.bytes())


def _dedup_settings(token: str | None) -> dict[str, Any]:
    if not token:
        # Without a token, equal rows inserted twice are two inserts, as they always were.
        return {"insert_deduplicate": 0}
    return {"insert_deduplication_token": token, **DEDUP_SETTINGS}


def _digest(messages: list[bytes]) -> str:
    digest = hashlib.sha256()
    for message in messages:
        digest.update(len(message).to_bytes(8, "little"))
        digest.update(message)
    return f"clew-otlp-{digest.hexdigest()[:40]}"


def _discard_partial_output(session: chdb_session.Session) -> None:
    # chDB prefixes the output a failed query wrote before failing (say, past max_result_rows)
    # to the next query's result: a throwaway query on the same session takes it.
    with contextlib.suppress(Exception):
        session.query("SELECT 1", "CSV")  # type: ignore[no-untyped-call]


def _scratch_dir() -> str | None:
    # Memory-backed where the system has it: the file lives for one insert.
    return "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None


def _settings_clause(settings: Mapping[str, Any]) -> str:
    parts = []
    for name, value in settings.items():
        if not _SETTING_NAME.match(name) or not isinstance(value, int | float | str):
            raise StoreError(f"bad setting {name!r}={value!r}")
        literal = (
            repr(value)
            if isinstance(value, int | float)
            else "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
        )
        parts.append(f"{name} = {literal}")
    return " SETTINGS " + ", ".join(parts) if parts else ""


def _quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"
