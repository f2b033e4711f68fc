"""The test fixture that stands in for a ClickHouse server: does it speak the HTTP interface?

Raw HTTP for the protocol details, and clickhouse-connect itself (Native reads and writes,
each compression it offers, sessions) for what the server backend relies on.
"""

from __future__ import annotations

import base64
import gzip
import http.client
import json
import uuid
import zlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from urllib.parse import urlencode, urlsplit

import clickhouse_connect
import lz4.frame
import pytest
from backports import zstd
from clickhouse_connect.driver.client import Client
from clickhouse_connect.driver.exceptions import DatabaseError

from tests.support.clickhouse_http import PASSWORD, USER, FakeClickHouse

Response = tuple[int, dict[str, str], bytes]


@pytest.fixture
def call(clickhouse_http: FakeClickHouse, clickhouse_url: str) -> Callable[..., Response]:
    """POST to the fixture in a fresh database: (status, headers, body)."""
    database = urlsplit(clickhouse_url).path.strip("/")
    login = base64.b64encode(f"{clickhouse_http.user}:{clickhouse_http.password}".encode()).decode()

    def send(
        body: bytes | str = b"", headers: dict[str, str] | None = None, **params: str
    ) -> Response:
        connection = http.client.HTTPConnection("127.0.0.1", clickhouse_http.port, timeout=30)
        try:
            sent = {"Authorization": f"Basic {login}", **(headers or {})}
            query = urlencode({"database": database, **params})
            data = body.encode() if isinstance(body, str) else body
            connection.request("POST", f"/?{query}", body=data, headers=sent)
            response = connection.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            connection.close()

    return send


@pytest.fixture
def client(clickhouse_url: str) -> Iterator[Client]:
    """clickhouse-connect with its defaults (compression, a session of its own)."""
    parts = urlsplit(clickhouse_url)
    connected = clickhouse_connect.get_client(
        host=parts.hostname, port=parts.port, username=USER, password=PASSWORD,
        database=parts.path.strip("/"),
    )  # fmt: skip
    yield connected
    connected.close()


def test_ping_and_root(clickhouse_http: FakeClickHouse) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", clickhouse_http.port, timeout=10)
    for path in ("/ping", "/"):
        connection.request("GET", path)
        response = connection.getresponse()
        assert (response.status, response.read()) == (200, b"Ok.\n")
    connection.close()


def test_query_in_url_or_body_with_format_and_default_format(call: Callable[..., Response]) -> None:
    status, headers, body = call(query="SELECT 1 AS one FORMAT JSONCompact")
    assert status == 200 and json.loads(body)["data"] == [[1]]
    assert headers["X-ClickHouse-Format"] == "JSONCompact"
    assert call("SELECT 'a\tb', 2")[2] == b"a\\tb\t2\n"  # TabSeparated by default
    assert call("SELECT 3", default_format="CSV")[2] == b"3\n"


def test_typed_parameters_and_settings(call: Callable[..., Response]) -> None:
    status, _, body = call(
        "SELECT {s:String}, {xs:Array(UInt8)}, getSetting('max_threads') FORMAT JSONCompact",
        param_s="it's\\ttabbed",
        param_xs="[1,2]",
        max_threads="3",
    )
    assert status == 200
    assert json.loads(body)["data"] == [["it's\ttabbed", [1, 2], 3]]
    after = call("SELECT getSetting('max_threads') FORMAT JSONCompact")[2]
    assert json.loads(after)["data"] != [[3]], "a URL setting lasts one query"


def test_insert_with_data_in_body_and_query_split(call: Callable[..., Response]) -> None:
    assert call("CREATE TABLE t (a UInt32, b String) ENGINE = MergeTree ORDER BY a")[0] == 200
    status, headers, _ = call("INSERT INTO t FORMAT JSONEachRow\n" + '{"a": 1, "b": "x"}')
    assert status == 200 and json.loads(headers["X-ClickHouse-Summary"])["written_rows"] == "1"
    assert "X-ClickHouse-Format" not in headers
    assert call("2\ty\n", query="INSERT INTO t FORMAT TabSeparated")[0] == 200
    assert call("SELECT a, b FROM t ORDER BY a")[2] == b"1\tx\n2\ty\n"


@pytest.mark.parametrize(
    ("encoding", "compress"),
    [
        ("gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("zstd", zstd.compress),
        ("lz4", lz4.frame.compress),
    ],
)
def test_compressed_request_bodies(
    call: Callable[..., Response], encoding: str, compress: Callable[[bytes], bytes]
) -> None:
    call("CREATE TABLE t (a UInt32) ENGINE = MergeTree ORDER BY a")
    body = compress(b"1\n2\n3\n")
    status, _, _ = call(body, {"Content-Encoding": encoding}, query="INSERT INTO t FORMAT CSV")
    assert status == 200
    assert call("SELECT sum(a) FROM t")[2] == b"6\n"


def test_bodies_that_do_not_decompress_are_refused(call: Callable[..., Response]) -> None:
    status, headers, body = call(b"not zstd at all", {"Content-Encoding": "zstd"})
    assert (status, headers["X-ClickHouse-Exception-Code"]) == (500, "271")
    assert b"(CANNOT_DECOMPRESS)" in body
    status, headers, _ = call(b"SELECT 1", {"Content-Encoding": "snappy"})
    assert (status, headers["X-ClickHouse-Exception-Code"]) == (501, "48")


@pytest.mark.parametrize(
    ("accept", "chosen", "decompress"),
    [
        ("gzip", "gzip", gzip.decompress),
        ("lz4, zstd, gzip", "zstd", zstd.decompress),
        ("lz4", "lz4", lz4.frame.decompress),
    ],
)
def test_compressed_responses_when_asked(
    call: Callable[..., Response], accept: str, chosen: str, decompress: Callable[[bytes], bytes]
) -> None:
    headers = {"Accept-Encoding": accept}
    status, got, body = call("SELECT number FROM numbers(3)", headers, enable_http_compression="1")
    assert status == 200 and got["Content-Encoding"] == chosen
    assert decompress(body) == b"0\n1\n2\n"
    assert "Content-Encoding" not in call("SELECT 1", headers)[1]  # not without the setting


def test_chunked_and_multipart_requests(
    clickhouse_http: FakeClickHouse, call: Callable[..., Response]
) -> None:
    call("CREATE TABLE t (a UInt32) ENGINE = MergeTree ORDER BY a")
    login = base64.b64encode(f"{clickhouse_http.user}:{clickhouse_http.password}".encode()).decode()
    database = json.loads(call("SELECT currentDatabase() FORMAT JSONCompact")[2])["data"][0][0]
    connection = http.client.HTTPConnection("127.0.0.1", clickhouse_http.port, timeout=10)
    chunks = iter([b"INSERT INTO t FORMAT CSV\n", b"4\n", b"5\n"])
    connection.request(
        "POST", f"/?database={database}", body=chunks, encode_chunked=True,
        headers={"Authorization": f"Basic {login}", "Transfer-Encoding": "chunked"},
    )  # fmt: skip
    assert connection.getresponse().status == 200
    connection.close()
    boundary = "b0undary"
    form = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="query"\r\n\r\n'
        "SELECT sum(a) + {p:UInt8} FROM t\r\n"
        f'--{boundary}\r\nContent-Disposition: form-data; name="param_p"\r\n\r\n1\r\n'
        f"--{boundary}--\r\n"
    )
    multipart = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    status, _, body = call(form, multipart)
    assert (status, body) == (200, b"10\n")


def test_sessions_keep_settings_and_temporary_tables(call: Callable[..., Response]) -> None:
    session = str(uuid.uuid4())
    assert call("SET max_threads = 5", session_id=session)[0] == 200
    call("CREATE TEMPORARY TABLE scratch (a UInt8)", session_id=session)
    call("INSERT INTO scratch VALUES (7)", session_id=session)
    assert (
        call("SELECT getSetting('max_threads'), sum(a) FROM scratch", session_id=session)[2]
        == b"5\t7\n"
    )
    assert call("SELECT getSetting('max_threads')")[2] != b"5\n"
    assert call("SET max_threads = 6")[0] == 200  # without a session, SET lasts one request
    assert call("SELECT getSetting('max_threads')")[2] != b"6\n"
    status, headers, _ = call("SELECT 1", session_id=str(uuid.uuid4()), session_check="1")
    assert status == 404 and headers["X-ClickHouse-Exception-Code"] == "372"
    call("SELECT 1", session_id=session, close_session="1")
    assert call("SELECT 1", session_id=session, session_check="1")[0] == 404


def test_query_ids_are_echoed_or_made_up(call: Callable[..., Response]) -> None:
    assert call("SELECT 1", query_id="my-query-1")[1]["X-ClickHouse-Query-Id"] == "my-query-1"
    made_up = call("SELECT 1")[1]["X-ClickHouse-Query-Id"]
    assert uuid.UUID(made_up)


@pytest.mark.parametrize(
    ("sql", "params", "status", "code", "name"),
    [
        ("SELECT * FROM nope", {}, 404, "60", "UNKNOWN_TABLE"),
        ("SELEC 1", {}, 400, "62", "SYNTAX_ERROR"),
        ("SELECT 1", {"no_such_setting": "1"}, 404, "115", "UNKNOWN_SETTING"),
        ("SELECT throwIf(1)", {}, 500, "395", "FUNCTION_THROW_IF_VALUE_IS_NON_ZERO"),
    ],
)
def test_errors_in_clickhouse_format(
    call: Callable[..., Response],
    sql: str,
    params: dict[str, str],
    status: int,
    code: str,
    name: str,
) -> None:
    got, headers, body = call(sql, **params)
    assert (got, headers["X-ClickHouse-Exception-Code"]) == (status, code)
    text = body.decode()
    assert text.startswith(f"Code: {code}. DB::Exception: ") and f"({name}) (version " in text
    assert text.endswith(")\n")


def test_wrong_login_is_refused(clickhouse_http: FakeClickHouse) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", clickhouse_http.port, timeout=10)
    connection.request(
        "POST",
        "/",
        body=b"SELECT 1",
        headers={"X-ClickHouse-User": "clew", "X-ClickHouse-Key": "no"},
    )
    response = connection.getresponse()
    assert (response.status, response.getheader("X-ClickHouse-Exception-Code")) == (403, "516")
    assert b"AUTHENTICATION_FAILED" in response.read()
    connection.close()


def test_clickhouse_connect_reads_native(client: Client) -> None:
    result = client.query(
        "SELECT toLowCardinality('lc') AS lc, map('k', 'v') AS m, [1, 2] AS xs,"
        " toDateTime64('2026-01-02 03:04:05.123456789', 9, 'UTC') AS t,"
        " CAST(NULL, 'Nullable(String)') AS n,"
        " toUInt64(18446744073709551615) AS big, {s:String} AS s",
        parameters={"s": "x'y"},
    )
    (row,) = result.result_rows
    assert row[:3] == ("lc", {"k": "v"}, [1, 2])
    assert row[3].replace(tzinfo=UTC) == datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)
    assert row[4:] == (None, 2**64 - 1, "x'y")


@pytest.mark.parametrize("compression", ["lz4", "zstd", "gzip", None])
def test_clickhouse_connect_writes_native(clickhouse_url: str, compression: str | None) -> None:
    parts = urlsplit(clickhouse_url)
    client = clickhouse_connect.get_client(
        host=parts.hostname, port=parts.port, username=USER, password=PASSWORD,
        database=parts.path.strip("/"), compress=compression or False,
    )  # fmt: skip
    try:
        client.command(
            "CREATE TABLE t (a UInt64, b LowCardinality(String), m Map(String, UInt8))"
            " ENGINE = MergeTree ORDER BY a"
        )
        client.insert("t", [[1, "x", {"k": 1}], [2, "y", {}]], column_names=["a", "b", "m"])
        assert client.query("SELECT * FROM t ORDER BY a").result_rows == [
            (1, "x", {"k": 1}),
            (2, "y", {}),
        ]
        # Large enough for several Native blocks (and LZ4 frames), past chDB's inline limits.
        many = [[n, f"v{n % 7}", {"k": n % 255, "j": 1}] for n in range(3, 40_003)]
        client.insert("t", many, column_names=["a", "b", "m"])
        assert client.query("SELECT count(), sum(a), sum(m['k']) FROM t").result_rows == [
            (40_002, sum(range(40_003)), 1 + sum(n % 255 for n in range(3, 40_003)))
        ]
        with pytest.raises(DatabaseError, match="UNKNOWN_TABLE"):
            client.query("SELECT * FROM nope")
    finally:
        client.close()
