"""Test fixture: chDB sessions behind the fake ClickHouse HTTP server (see clickhouse_http.py).

One shared chDB session answers session-less requests; each HTTP `session_id` gets its own
chDB session on the same data folder, so `SET` and temporary tables live as long as the HTTP
session does, as on a real server. Per-request settings are applied with `SET` and restored.
"""

from __future__ import annotations

import os
import re
import tempfile
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from chdb import session as chdb_session

SESSION_NOT_FOUND, SESSION_IS_LOCKED = 372, 373
ABORTED = 236
# How long a closing engine waits for a statement under way, as a server's
# shutdown_wait_unfinished does, before it closes chDB anyway.
FINISH_TIMEOUT = 15.0
_CODE = re.compile(r"Code: (\d+)\. (DB::Exception: .*)", re.DOTALL)
_NAME = re.compile(r"\(([A-Z][A-Z0-9_]+)\)\s*$")
_CHANGES_DATABASE = re.compile(r"\s*(USE|DROP\s+DATABASE)\b", re.IGNORECASE)
_SET = re.compile(r"\s*SET\s+(.*)", re.IGNORECASE | re.DOTALL)
_SET_NAME = re.compile(r"(?:^|,)\s*(\w+)\s*=")
# INSERT ... FORMAT Protobuf<data>: group 2 is the format; the data starts at the match's end
# (spaces, then at most one line feed, are skipped as a server does).
_INSERT_DATA = re.compile(rb"\s*(INSERT\b[^\n]*?)\bFORMAT\s+(\w+)[ \t\f]*\r?\n?", re.IGNORECASE)
# chDB reads these wrongly when the data is inline in a query (Protobuf at once, Native past
# about 64 KiB): Protobuf goes through its streaming insert, Native through a file.
_STREAMED = frozenset({"Protobuf", "ProtobufSingle", "ProtobufList"})
_FROM_FILE = frozenset({"Native"})
# `readonly` is checked here rather than SET: a chDB session cannot SET it back afterwards.
_READS = re.compile(rb"\s*(SELECT|WITH|SHOW|DESCRIBE|DESC|EXISTS|EXPLAIN)\b", re.IGNORECASE)
READONLY = 164


class EngineError(Exception):
    """An error in ClickHouse's terms: numeric code, name and message."""

    def __init__(self, code: int, message: str, name: str = "") -> None:
        super().__init__(message)
        self.code, self.message = code, message
        found = _NAME.search(message)
        self.name = name or (found.group(1) if found else "")

    @classmethod
    def from_chdb(cls, exc: Exception) -> EngineError:
        """chDB's 'Code: N. DB::Exception: ... (NAME)' text, wherever it sits in the message."""
        text = str(exc)
        found = _CODE.search(text)
        if not found:
            return cls(1001, f"DB::Exception: {text} (STD_EXCEPTION)", "STD_EXCEPTION")
        # chDB sometimes nests the same text: keep the innermost statement of it.
        inner = _CODE.search(found.group(2)) or found
        return cls(int(inner.group(1)), inner.group(2).strip())


@dataclass
class Outcome:
    """What a statement produced."""

    body: bytes
    rows_read: int = 0
    bytes_read: int = 0
    rows_written: int = 0
    elapsed: float = 0.0


@dataclass
class _Slot:
    session: Any
    lock: threading.Lock = field(default_factory=threading.Lock)
    expires: float = float("inf")
    database: str | None = None  # the chDB session's current database, to skip needless USE


def _quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _ident(name: str) -> str:
    return "`" + name.replace("\\", "\\\\").replace("`", "\\`") + "`"


class Engine:
    """chDB behind the HTTP handler: sessions, databases, settings, inserts with data."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._default = _Slot(chdb_session.Session(path))  # type: ignore[no-untyped-call]
        self._sessions: dict[str, _Slot] = {}
        self._registry = threading.Lock()
        self._closed = False

    def slot(self, session_id: str | None, *, check: bool, timeout: float) -> _Slot:
        """The chDB session for an HTTP session id (created unless `check`), or the shared one."""
        if not session_id:
            return self._default
        with self._registry:
            if self._closed:
                raise EngineError(ABORTED, "DB::Exception: Server is shutting down. (ABORTED)")
            now = time.monotonic()
            for stale in [key for key, slot in self._sessions.items() if slot.expires < now]:
                self._sessions.pop(stale).session.close()
            slot = self._sessions.get(session_id)
            if slot is None:
                if check:
                    raise EngineError(
                        SESSION_NOT_FOUND,
                        f"DB::Exception: Session {session_id} not found. (SESSION_NOT_FOUND)",
                    )
                slot = self._sessions[session_id] = _Slot(
                    chdb_session.Session(self._path)  # type: ignore[no-untyped-call]
                )
            slot.expires = now + timeout
            return slot

    def close_session(self, session_id: str) -> None:
        """Drop an HTTP session (close_session=1)."""
        with self._registry:
            slot = self._sessions.pop(session_id, None)
        if slot is not None:
            slot.session.close()

    def close(self) -> None:
        """Close every chDB session, releasing the data folder.

        Every statement under way finishes first, as on a server that is asked to stop: the
        sessions share one chDB engine, and closing it beneath another session's INSERT leaves
        a half-written insert that no real server leaves (there, parts and their deduplication
        record are committed together). Later statements are refused with ABORTED.
        """
        with self._registry:
            self._closed = True
            slots = [*self._sessions.values(), self._default]
            self._sessions.clear()
        deadline = time.monotonic() + FINISH_TIMEOUT
        held = [
            slot
            for slot in slots
            if slot.lock.acquire(timeout=max(0.0, deadline - time.monotonic()))
        ]
        try:
            for slot in slots:
                slot.session.close()
        finally:
            for slot in held:
                slot.lock.release()

    def run(
        self,
        slot: _Slot,
        *,
        database: str,
        settings: Mapping[str, str],
        params: Mapping[str, str],
        text: bytes,
        default_format: str,
    ) -> Outcome:
        """Run one statement (with any inline INSERT data) in `slot`, `settings` for it alone."""
        if slot is not self._default and not slot.lock.acquire(blocking=False):
            raise EngineError(
                SESSION_IS_LOCKED,
                "DB::Exception: Session is locked by a concurrent client. (SESSION_IS_LOCKED)",
            )
        if slot is self._default:
            slot.lock.acquire()
        try:
            if self._closed:
                raise EngineError(ABORTED, "DB::Exception: Server is shutting down. (ABORTED)")
            if slot.database != database:
                self._query(slot, f"USE {_ident(database)}")
                slot.database = database
            if settings.get("readonly", "0") != "0" and not _READS.match(text):
                message = "DB::Exception: Cannot execute query in readonly mode. (READONLY)"
                raise EngineError(READONLY, message)
            restore = self._apply(slot, {k: v for k, v in settings.items() if k != "readonly"})
            try:
                return self._statement(slot, text, default_format, params)
            except EngineError:
                # chDB hands a failed query's partial output to the next query: take it here.
                self._query(slot, "SELECT 1")
                raise
            finally:
                for undo in restore + self._forget(slot, text):
                    self._query(slot, undo)
        finally:
            slot.lock.release()

    def _apply(self, slot: _Slot, settings: Mapping[str, str]) -> list[str]:
        if not settings:
            return []
        before: dict[str, str | None] = dict.fromkeys(settings)
        if slot is not self._default:  # a session may hold SET values to come back to
            found = self._query(
                slot,
                "SELECT name, value FROM system.settings"
                " WHERE changed AND name IN {names:Array(String)}",
                {"names": "[" + ",".join(_quote(name) for name in settings) + "]"},
            )
            for line in found.decode().splitlines():
                name, value = line.split("\t")
                before[name] = value
        # Unknown names reach SET and fail there with UNKNOWN_SETTING, as on a server.
        assignments = ", ".join(f"{name} = {_quote(value)}" for name, value in settings.items())
        self._query(slot, f"SET {assignments}")
        return [
            f"SET {name} = {_quote(value)}" if value is not None else f"SET {name} = DEFAULT"
            for name, value in before.items()
        ]

    def _forget(self, slot: _Slot, text: bytes) -> list[str]:
        """Undo what a statement changed that only a session keeps (SET, USE)."""
        head = text[:4096].decode("utf-8", errors="replace")
        if _CHANGES_DATABASE.match(head):
            slot.database = None
        found = _SET.match(head)
        if slot is not self._default or not found:
            return []
        return [f"SET {name} = DEFAULT" for name in _SET_NAME.findall(found.group(1))]

    def _statement(self, slot: _Slot, text: bytes, fmt: str, params: Mapping[str, str]) -> Outcome:
        insert = _INSERT_DATA.match(text[:65536])
        data_format = insert.group(2).decode() if insert else ""
        if insert and data_format in _STREAMED:
            return self._stream(slot, insert.group(1).decode(), data_format, text[insert.end() :])
        if insert and data_format in _FROM_FILE:
            return self._from_file(
                slot, insert.group(1).decode(), data_format, text[insert.end() :]
            )
        # Otherwise the whole text as bytes, INSERT data included: chDB's streaming insert
        # skips the scalar subqueries of dependent materialized views, a plain query runs them.
        return self._run_text(slot, text, fmt, params)

    def _from_file(self, slot: _Slot, head: str, data_format: str, data: bytes) -> Outcome:
        fd, path = tempfile.mkstemp(prefix="chdb-http-", suffix=f".{data_format.lower()}")
        try:
            with os.fdopen(fd, "wb") as scratch:
                scratch.write(data)
            # The statement names the columns in the data's order, so SELECT * lines up. (A
            # server runs its client's SQL: `head` is that SQL, not a value spliced into ours.)
            sql = f"{head} SELECT * FROM file({_quote(path)}, {_quote(data_format)})"  # noqa: S608
            return self._run_text(
                slot,
                sql.encode(),
                "TabSeparated",
                {},
            )
        finally:
            os.unlink(path)

    @staticmethod
    def _run_text(slot: _Slot, text: bytes, fmt: str, params: Mapping[str, str]) -> Outcome:
        try:
            result = slot.session.query(text, fmt, params=dict(params) or None)
        except Exception as exc:
            raise EngineError.from_chdb(exc) from exc
        return Outcome(
            body=bytes(result.bytes()),
            rows_read=int(result.rows_read()),
            bytes_read=int(result.bytes_read()),
            rows_written=int(result.rows_written()),
            elapsed=float(result.elapsed()),
        )

    @staticmethod
    def _stream(slot: _Slot, statement: str, fmt: str, data: bytes) -> Outcome:
        try:
            inserter = slot.session.send_insert(statement.rstrip(), fmt)
            try:
                inserter.append(data)
                done = inserter.finish()
            except Exception:
                inserter.cancel()
                raise
        except Exception as exc:
            raise EngineError.from_chdb(exc) from exc
        return Outcome(body=b"", rows_written=int(done.rows_written), elapsed=float(done.elapsed))

    @staticmethod
    def _query(
        slot: _Slot, sql: str, params: Mapping[str, str] | None = None, fmt: str = "TabSeparated"
    ) -> bytes:
        try:
            return bytes(slot.session.query(sql, fmt, params=params).bytes())
        except Exception as exc:
            raise EngineError.from_chdb(exc) from exc
