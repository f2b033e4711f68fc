"""Test fixture: ClickHouse's HTTP interface over the chDB engine, for clickhouse-connect.

Not a server to run anything on: it exists because this machine has no modern ClickHouse
server. It speaks enough of the protocol for the client library: the query from the URL and/or
the body, `FORMAT`, settings and `param_*` as URL parameters (or multipart form fields),
`INSERT ... FORMAT X` with the data in the body, compressed request bodies and responses
(lz4, zstd, gzip, deflate), `session_id`/`session_check`/`close_session`, `query_id`, Basic or
X-ClickHouse-User/Key authentication, HTTPS (--certfile), and errors as ClickHouse writes
them: the text
`Code: N. DB::Exception: ... (NAME) (version V)`, an HTTP status chosen by the code, and the
X-ClickHouse-Exception-Code header. Run: `python -m tests.support.chdb_http_server --port P
--data-dir D --user U --password W`.
"""

from __future__ import annotations

import argparse
import base64
import email.parser
import email.policy
import gzip
import json
import os
import re
import signal
import ssl
import threading
import uuid
import zlib
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import lz4.frame
from backports import zstd

from tests.support.chdb_engine import Engine, EngineError, Outcome

VERSION = "26.9.2.1"
# Parameters the HTTP handler consumes itself; every other one (but param_*) is a setting.
# fmt: off
TRANSPORT = frozenset((
    "query", "database", "default_format", "user", "password", "quota_key", "session_id",
    "session_timeout", "session_check", "close_session", "query_id", "compress", "decompress",
    "buffer_size", "wait_end_of_query", "client_protocol_version", "role", "stacktrace",
))
# fmt: on


def _lz4_frames(data: bytes) -> bytes:
    # clickhouse-connect sends one LZ4 frame per block: read them all, not just the first.
    out = []
    while data:
        decompressor = lz4.frame.LZ4FrameDecompressor()
        out.append(decompressor.decompress(data))
        data = decompressor.unused_data
    return b"".join(out)


DECOMPRESS: dict[str, Callable[[bytes], bytes]] = {
    "lz4": _lz4_frames,
    "zstd": zstd.decompress,
    "gzip": gzip.decompress,
    "deflate": zlib.decompress,
}
# A real server's preference when the client accepts several.
COMPRESS: dict[str, Callable[[bytes], bytes]] = {
    "zstd": zstd.compress,
    "lz4": lz4.frame.compress,
    "gzip": gzip.compress,
    "deflate": zlib.compress,
}
# ClickHouse's exceptionCodeToHTTPStatus, for the codes a client of this fixture can meet.
# fmt: off
STATUS_BY_NAME = {
    **dict.fromkeys((
        "SYNTAX_ERROR", "BAD_ARGUMENTS", "CANNOT_PARSE_TEXT", "CANNOT_PARSE_QUOTED_STRING",
        "CANNOT_PARSE_DATE", "CANNOT_PARSE_DATETIME", "CANNOT_PARSE_NUMBER", "TYPE_MISMATCH",
        "CANNOT_PARSE_INPUT_ASSERTION_FAILED", "INCORRECT_DATA", "ILLEGAL_COLUMN",
        "DUPLICATE_COLUMN", "THERE_IS_NO_COLUMN", "VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE",
        "UNKNOWN_ELEMENT_IN_AST",
    ), 400),
    **dict.fromkeys((
        "UNKNOWN_TABLE", "UNKNOWN_FUNCTION", "UNKNOWN_IDENTIFIER", "UNKNOWN_TYPE",
        "UNKNOWN_STORAGE", "UNKNOWN_DATABASE", "UNKNOWN_SETTING", "UNKNOWN_AGGREGATE_FUNCTION",
        "UNKNOWN_FORMAT", "UNKNOWN_TYPE_OF_QUERY", "SESSION_NOT_FOUND",
    ), 404),
    "REQUIRED_PASSWORD": 401, "AUTHENTICATION_FAILED": 403, "UNKNOWN_USER": 403,
    "TIMEOUT_EXCEEDED": 408, "SESSION_IS_LOCKED": 409, "NOT_IMPLEMENTED": 501,
}
# fmt: on
_OUTPUT_FORMAT = re.compile(r"\bFORMAT\s+([A-Za-z0-9_]+)\s*;?\s*$", re.IGNORECASE)
_RESULT_STATEMENT = re.compile(r"^\s*\(?\s*(SELECT|WITH|SHOW|DESC|DESCRIBE|EXPLAIN|EXISTS)\b", re.I)


class Request:
    """One HTTP request in ClickHouse's terms: statement text, settings, parameters."""

    def __init__(self, params: dict[str, str], body: bytes, form: dict[str, str]) -> None:
        self.params = {**params, **form}
        query = self.params.get("query", "").encode()
        # The URL's query and the body are one text, a line feed between them (as on a server);
        # an INSERT's data follows its FORMAT clause in that text.
        self.text = (query + b"\n" + body) if query and body else (query or body)
        self.settings = {
            k: v
            for k, v in self.params.items()
            if k not in TRANSPORT and not k.startswith("param_")
        }
        self.query_params = {k[6:]: v for k, v in self.params.items() if k.startswith("param_")}
        self.query_id = self.params["query_id"]

    def output_format(self) -> str | None:
        """The format of the result, when the statement has one."""
        head = self.text[:4096].decode("utf-8", errors="replace")
        if not _RESULT_STATEMENT.match(head):
            return None
        found = _OUTPUT_FORMAT.search(self.text.decode("utf-8", errors="replace"))
        return found.group(1) if found else self.params.get("default_format", "TabSeparated")


class Handler(BaseHTTPRequestHandler):
    """ClickHouse's HTTP interface (the part clickhouse-connect uses)."""

    protocol_version = "HTTP/1.1"
    # Headers and body go out as two writes; with Nagle the body would wait ~40 ms for an ACK.
    disable_nagle_algorithm = True
    server: FixtureServer

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests read errors from responses, not from stderr."""

    def do_GET(self) -> None:
        """GET /ping, GET / (no query) and GET /?query=..."""
        self._handle()

    def do_POST(self) -> None:
        """POST /?params with the query and/or data in the body."""
        self._handle()

    def _handle(self) -> None:
        url = urlsplit(self.path)
        params = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        query_id = params.setdefault("query_id", "") or str(uuid.uuid4())
        params["query_id"] = query_id
        try:
            body = self._body()
            if url.path == "/ping" or (not params.get("query") and not body):
                self._send(200, b"Ok.\n", {"Content-Type": "text/html; charset=UTF-8"})
                return
            self._authenticate(params)
            form = self._form(body)
            request = Request(params, b"" if form else body, form)
            self._answer(request, self.server.execute(request))
        except EngineError as error:
            self._fail(error, query_id)

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                pass  # trailers
            raw = b"".join(chunks)
        else:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        encoding = (self.headers.get("Content-Encoding") or "").strip().lower()
        if not encoding or encoding == "identity":
            return raw
        if encoding not in DECOMPRESS:
            raise EngineError(
                48, f"DB::Exception: Unknown Content-Encoding {encoding!r}. (NOT_IMPLEMENTED)"
            )
        try:
            return DECOMPRESS[encoding](raw)
        except Exception as exc:
            raise EngineError(
                271, f"DB::Exception: Cannot decompress {encoding}: {exc}. (CANNOT_DECOMPRESS)"
            ) from exc

    def _form(self, body: bytes) -> dict[str, str]:
        content_type = self.headers.get("Content-Type", "")
        if not content_type.startswith("multipart/form-data"):
            return {}
        head = f"Content-Type: {content_type}\r\n\r\n".encode()
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
        fields: dict[str, str] = {}
        for part in message.iter_parts():
            if part.get_filename():
                raise EngineError(
                    48,
                    "DB::Exception: external data is not supported here. (NOT_IMPLEMENTED)",
                )
            fields[str(part.get_param("name", header="content-disposition"))] = part.get_content()
        return fields

    def _authenticate(self, params: dict[str, str]) -> None:
        user, password = params.get("user", "default"), params.get("password", "")
        header = self.headers.get("Authorization", "")
        if header.startswith("Basic "):
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        user = self.headers.get("X-ClickHouse-User", user)
        password = self.headers.get("X-ClickHouse-Key", password)
        if (user, password) != (self.server.user, self.server.password):
            raise EngineError(
                516,
                f"DB::Exception: {user}: Authentication failed: password is incorrect, "
                "or there is no user with such name. (AUTHENTICATION_FAILED)",
            )

    def _answer(self, request: Request, outcome: Outcome) -> None:
        fmt = request.output_format()
        summary = {
            "read_rows": str(outcome.rows_read),
            "read_bytes": str(outcome.bytes_read),
            "written_rows": str(outcome.rows_written),
            "written_bytes": "0",
            "total_rows_to_read": str(outcome.rows_read),
            "result_rows": "0",
            "result_bytes": str(len(outcome.body)),
            "elapsed_ns": str(int(outcome.elapsed * 1e9)),
        }
        headers = {
            "X-ClickHouse-Query-Id": request.query_id,
            "X-ClickHouse-Timezone": "UTC",
            "X-ClickHouse-Summary": json.dumps(summary, separators=(",", ":")),
            "Content-Type": "application/octet-stream" if fmt else "text/plain; charset=UTF-8",
        }
        if fmt:
            headers["X-ClickHouse-Format"] = fmt
        if request.params.get("session_id"):
            headers["X-ClickHouse-Session-Id"] = request.params["session_id"]
        body = outcome.body
        if request.settings.get("enable_http_compression") in ("1", "true") and body:
            accepted = self.headers.get("Accept-Encoding", "")
            chosen = next((name for name in COMPRESS if name in accepted), None)
            if chosen:
                body, headers["Content-Encoding"] = COMPRESS[chosen](body), chosen
        self._send(200, body, headers)

    def _fail(self, error: EngineError, query_id: str) -> None:
        text = f"Code: {error.code}. {error.message} (version {VERSION})\n".encode()
        headers = {
            "X-ClickHouse-Exception-Code": str(error.code),
            "X-ClickHouse-Query-Id": query_id,
            "Content-Type": "text/plain; charset=UTF-8",
        }
        self._send(STATUS_BY_NAME.get(error.name, 500), text, headers)

    def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        headers["X-ClickHouse-Server-Display-Name"] = "clew-chdb-fixture"
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class FixtureServer(ThreadingHTTPServer):
    """A threading HTTP server over one Engine, with one login."""

    daemon_threads = True

    def __init__(self, port: int, data_dir: str, user: str, password: str) -> None:
        super().__init__(("127.0.0.1", port), Handler)
        self.engine, self.user, self.password = Engine(data_dir), user, password

    def execute(self, request: Request) -> Outcome:
        """Run a request's statement in its session, then honour close_session."""
        params = request.params
        session_id = params.get("session_id")
        slot = self.engine.slot(
            session_id,
            check=params.get("session_check") in ("1", "true"),
            timeout=float(params.get("session_timeout") or 60),
        )
        try:
            return self.engine.run(
                slot,
                database=params.get("database") or "default",
                settings=request.settings,
                params=request.query_params,
                text=request.text,
                default_format=params.get("default_format", "TabSeparated"),
            )
        finally:
            if session_id and params.get("close_session") in ("1", "true"):
                self.engine.close_session(session_id)


def main() -> None:
    """Serve until SIGTERM or SIGINT, then close chDB."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--user", default="default")
    parser.add_argument("--password", default="")
    parser.add_argument("--certfile", help="serve HTTPS with this certificate (PEM, key inside)")
    args = parser.parse_args()
    data_dir = Path(args.data_dir).resolve()
    server = FixtureServer(args.port, str(data_dir), args.user, args.password)
    # chDB (ClickHouse's local mode) writes an inline format schema (format_schema_source =
    # 'string', the server store's fast span path) to ./__cache__; a real server writes it
    # under its format_schema_path. Here that is the data folder's, never the caller's cwd.
    schemas = data_dir / "format_schemas"
    schemas.mkdir(parents=True, exist_ok=True)
    os.chdir(schemas)
    if args.certfile:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.certfile)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    print(f"listening on 127.0.0.1:{args.port}", flush=True)
    stop.wait()
    print("stopping: refusing new connections", flush=True)
    server.shutdown()
    server.server_close()
    server.engine.close()
    print("stopped: chDB closed", flush=True)


if __name__ == "__main__":
    main()
