"""The server backend: a ClickHouse server (or cluster) over HTTP(S) through clickhouse-connect.

Queries come back as JSONCompact, the format the embedded backend reads, so both backends
hand the UI identical rows. Inserts travel compressed (LZ4 frames) and carry an
`insert_deduplication_token`, so a retried insert is stored once where the table deduplicates.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import clickhouse_connect
import lz4.frame
import orjson
from clickhouse_connect.driver.client import Client
from clickhouse_connect.driver.exceptions import ClickHouseError

from clew.collector.errors import StoreError
from clew.collector.store import otlp
from clew.collector.store.params import encode
from clew.common.store import QueryResult

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_DEFAULT_PORTS = {"http": 8123, "https": 8443}
# Same result conventions as the embedded store: 64-bit integers as JSON numbers, times in UTC.
_QUERY_SETTINGS = {"output_format_json_quote_64bit_integers": 0, "session_timezone": "UTC"}
# A retried insert into the Null ingest tables must also be recognised in the views' targets.
_INSERT_SETTINGS = {"deduplicate_blocks_in_dependent_materialized_views": 1}


@dataclass(frozen=True)
class ServerAddress:
    """Where the server is and how to log in, parsed from `CLEW_CLICKHOUSE_URL`."""

    interface: str
    host: str
    port: int
    username: str
    password: str
    database: str
    cluster: str | None = None
    verify: bool = True

    def __repr__(self) -> str:  # no password: addresses end up in logs and errors
        where = f"{self.interface}://{self.username}@{self.host}:{self.port}/{self.database}"
        return f"ServerAddress({where}, cluster={self.cluster!r})"


def parse_url(url: str) -> ServerAddress:
    """`http[s]://user:password@host:port/database[?cluster=name&verify=false]` → address."""
    parts = urlsplit(url)
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        # The URL itself stays out of the message: it holds the password.
        raise StoreError("CLEW_CLICKHOUSE_URL must be http(s)://user:password@host:port/db")
    options = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    unknown = set(options) - {"cluster", "verify"}
    if unknown:
        raise StoreError(f"unknown option(s) in CLEW_CLICKHOUSE_URL: {sorted(unknown)}")
    database = unquote(parts.path.strip("/")) or "default"
    cluster = options.get("cluster") or None
    for label, name in (("database", database), ("cluster", cluster)):
        if name is not None and not _NAME.match(name):
            raise StoreError(f"bad {label} name in CLEW_CLICKHOUSE_URL: {name!r}")
    try:
        port = parts.port or _DEFAULT_PORTS[parts.scheme]
    except ValueError as exc:
        raise StoreError(f"bad port in CLEW_CLICKHOUSE_URL: {exc}") from exc
    return ServerAddress(
        interface=parts.scheme,
        host=parts.hostname,
        port=port,
        username=unquote(parts.username or "default"),
        password=unquote(parts.password or ""),
        database=database,
        cluster=cluster,
        verify=options.get("verify", "true").lower() not in ("0", "false", "no"),
    )


class _Bound:
    """A parameter already in ClickHouse's escaped text form; clickhouse-connect sends str()."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __str__(self) -> str:
        return self.text


def _bind(parameters: Mapping[str, Any] | None) -> dict[str, Any] | None:
    # The embedded store's encoder, so both backends read a value the same way (the
    # library's own binding would, for one, drop the microseconds of a top-level datetime).
    encoded = encode(parameters)
    return {name: _Bound(text) for name, text in encoded.items()} or None


def dedup_token(table: str, fmt: str, data: bytes) -> str:
    """The token of an insert: the same rows into the same table give the same token."""
    digest = hashlib.sha256(f"{table}\0{fmt}\0".encode() + data).hexdigest()
    return f"clew-{digest[:40]}"


class ServerStore:
    """A clickhouse-connect HTTP client; thread-safe because it holds no server session."""

    def __init__(self, address: ServerAddress, client: Client) -> None:
        self.address = address
        self._client: Client | None = client

    @property
    def cluster(self) -> str | None:
        """The cluster named in the URL (`?cluster=`): the schema goes ON CLUSTER when set."""
        return self.address.cluster

    def query(
        self,
        sql: str,
        parameters: Mapping[str, Any] | None = None,
        *,
        settings: Mapping[str, Any] | None = None,
    ) -> QueryResult:
        """Run a SELECT; results as documented on `Store`."""
        # zstd-compressed results: urllib3 decodes them, and they are what the UI waits for.
        merged = {**_QUERY_SETTINGS, "enable_http_compression": 1, **(settings or {})}
        raw = self._call(
            lambda client: client.raw_query(
                sql.rstrip().rstrip(";"),
                _bind(parameters),
                settings=merged,
                fmt="JSONCompact",
                transport_settings={"Accept-Encoding": "zstd"},
            )
        )
        if not raw:
            return QueryResult(column_names=())
        try:
            doc = orjson.loads(raw)  # several times the stdlib's speed on wide rows
        except ValueError as exc:  # a result cut short; wait_end_of_query makes it rare
            raise StoreError(f"unreadable result: {exc}: {raw[-300:]!r}") from exc
        names = tuple(column["name"] for column in doc["meta"])
        return QueryResult(column_names=names, rows=[tuple(row) for row in doc["data"]])

    def command(self, sql: str, parameters: Mapping[str, Any] | None = None) -> None:
        """Run a statement that returns no rows."""
        self._call(
            lambda client: client.command(sql, _bind(parameters), settings=dict(_QUERY_SETTINGS))
        )

    def insert(
        self, table: str, data: str | bytes, fmt: str = "JSONEachRow", *, token: str | None = None
    ) -> None:
        """Insert rows encoded in `fmt`, LZ4-compressed, with a deduplication token.

        Without `token` the token is the rows' digest, so retrying the same call is safe.
        """
        if not _NAME.match(table) or not _NAME.match(fmt):
            raise StoreError(f"bad table or format name: {table!r} {fmt!r}")
        body = data.encode("utf-8") if isinstance(data, str) else data
        settings = {
            **_INSERT_SETTINGS,
            "insert_deduplication_token": token or dedup_token(table, fmt, body),
        }
        self._call(
            lambda client: client.raw_insert(
                table,
                insert_block=lz4.frame.compress(body),
                settings=settings,
                fmt=fmt,
                compression="lz4",
            )
        )

    def insert_columns(
        self,
        table: str,
        column_names: Sequence[str],
        columns: Sequence[Sequence[Any]],
        *,
        token: str | None = None,
    ) -> None:
        """Insert column-oriented Python values as compressed Native blocks."""
        if not _NAME.match(table) or not columns or not columns[0]:
            raise StoreError(f"bad table name or no rows: {table!r}")
        settings = self._insert_settings(token)
        self._call(
            lambda client: client.insert(
                table,
                columns,
                column_names=list(column_names),
                column_oriented=True,
                settings=settings,
            )
        )

    def _insert_settings(self, token: str | None) -> dict[str, Any]:
        settings: dict[str, Any] = dict(_INSERT_SETTINGS)
        if token:
            settings["insert_deduplication_token"] = token
        if self.cluster:
            # Return only once the shards hold the rows, so an acknowledged insert is stored
            # and the token reaches the replicated tables that deduplicate by it.
            settings["distributed_foreground_insert"] = 1
        return settings

    def insert_otlp_traces(self, messages: list[bytes]) -> list[int]:
        """The fast span path on a server: the positions of the requests it left to Python.

        The requests travel once, into a temporary table of a session of this call's own;
        the schema travels as a setting (format_schema_source = 'string'), so servers need
        no .proto file of clew's; a server without that setting gets none of the requests.
        """
        client = self._client
        if client is not None and "format_schema_source" not in client.server_settings:
            return list(range(len(messages)))  # an older server: every request goes through Python
        body = otlp.length_delimited(messages)
        session = {"session_id": f"clew-otlp-{uuid.uuid4()}", "session_timeout": 60}
        schema = {**otlp.SETTINGS, **_protobuf_schema()}
        source = "clew_otlp_batch"

        def run(client: Client) -> list[int]:
            client.command(
                f"CREATE TEMPORARY TABLE {source} AS {otlp.TABLE} ENGINE = Memory", settings=session
            )
            client.raw_insert(
                source,
                insert_block=lz4.frame.compress(body),
                settings={**session, **schema},
                fmt="Protobuf",
                compression="lz4",
            )
            # One thread: rowNumberInAllBlocks() must count the requests in the order sent.
            slow = client.raw_query(
                otlp.SLOW_REQUESTS.format(source=source),
                settings={**session, "max_threads": 1},
                fmt="TabSeparated",
            )
            token = dedup_token(otlp.TABLE, "Protobuf", body)
            settings = {
                **session,
                **_QUERY_SETTINGS,
                **otlp.ONE_READER,
                **self._insert_settings(token),
            }
            client.command(otlp.INSERT.format(source=source), settings=settings)
            # The batch is stored once the INSERT answered: a failed clean-up must not make
            # the writer send it again (the session and its table expire by themselves).
            with contextlib.suppress(ClickHouseError):
                client.command(f"DROP TEMPORARY TABLE IF EXISTS {source}", settings=session)
            return [int(line) for line in slow.decode().split()]

        return list(self._call(run))

    def close(self) -> None:
        """Close the HTTP connections; the store refuses work afterwards."""
        client, self._client = self._client, None
        if client is not None:
            client.close()

    def _call(self, action: Any) -> Any:
        client = self._client
        if client is None:
            raise StoreError("store is closed")
        try:
            return action(client)
        except ClickHouseError as exc:  # the root of every clickhouse-connect error
            raise StoreError(str(exc)) from exc


@functools.cache
def _protobuf_schema() -> dict[str, str]:
    with open(otlp.schema_file(), encoding="utf-8") as proto:
        text = proto.read()
    return {
        "format_schema_source": "string",
        "format_schema": text,
        "format_schema_message_name": otlp.MESSAGE,
    }


def open_server_store(url: str, *, ca_file: Path | None = None) -> ServerStore:
    """Connect to the server at `url` (it answers a version probe before this returns).

    `ca_file`: a PEM CA to verify an https server against (CLEW_CLICKHOUSE_CA_FILE) instead of
    the system's; verification is on unless the URL says `?verify=false`.
    """
    address = parse_url(url)
    if ca_file is not None and not ca_file.is_file():
        raise StoreError(f"CLEW_CLICKHOUSE_CA_FILE {str(ca_file)!r} is not a file")
    try:
        client = clickhouse_connect.get_client(
            interface=address.interface,
            host=address.host,
            port=address.port,
            username=address.username,
            password=address.password,
            database=address.database,
            verify=address.verify,
            ca_cert=str(ca_file) if ca_file is not None and address.verify else None,
            compress="lz4",
            # No session: sessions serialise queries, and the store is shared between threads.
            autogenerate_session_id=False,
            connect_timeout=10,
            send_receive_timeout=300,
        )
    except ClickHouseError as exc:
        raise StoreError(f"cannot connect to ClickHouse at {address!r}: {exc}") from exc
    return ServerStore(address, client)
