"""The logs explorer's SQL: named fragments and statements with ClickHouse typed parameters.

A search's WHERE is the conjunction of the fragments its filters need (`where(filters)`), so a
filter that is not set costs nothing: a fragment naming Body would read every body even when
its array parameter is empty. Values are never part of the text; every one is bound.
Free text uses schema/017's text index: `hasAllTokens(lower(Body), [...])` is answered from its
postings (docs/adr/0005-log-search.md); phrases are then checked on the few rows left.
"""

from __future__ import annotations

from typing import Final

from clew.query_ui.logs.filters import LogFilters

# The severity as a number, from SeverityText where the number is not set (0: unspecified).
LEVEL: Final = """if(SeverityNumber > 0, SeverityNumber, multiIf(
    upper(SeverityText) IN ('FATAL', 'CRITICAL', 'EMERGENCY', 'ALERT'), 21,
    upper(SeverityText) IN ('ERROR', 'ERR'), 17, upper(SeverityText) IN ('WARN', 'WARNING'), 13,
    upper(SeverityText) IN ('INFO', 'NOTICE'), 9, upper(SeverityText) = 'DEBUG', 5,
    upper(SeverityText) = 'TRACE', 1, 0))"""
LEVEL_NAME: Final = """multiIf(level_number >= 21, 'FATAL', level_number >= 17, 'ERROR',
    level_number >= 13, 'WARN', level_number >= 9, 'INFO', level_number >= 5, 'DEBUG',
    level_number >= 1, 'TRACE', 'UNSPECIFIED')"""

# otel_logs is sorted by (toStartOfFiveMinutes(Timestamp), ServiceName, Timestamp), and
# ClickHouse 26.9 does not carry a bound on a DateTime64 Timestamp through
# toStartOfFiveMinutes to the primary key: each bound is given on the key's own first
# column too (FIVE), else a 1 h search reads every granule of the day's part.
FIVE: Final = "toStartOfFiveMinutes(Timestamp)"
IN_RANGE: Final = """Timestamp >= fromUnixTimestamp64Nano({start_ns:Int64})
  AND Timestamp <= fromUnixTimestamp64Nano({end_ns:Int64})
  AND FIVE >= toStartOfFiveMinutes(fromUnixTimestamp64Nano({start_ns:Int64}))
  AND FIVE <= toStartOfFiveMinutes(fromUnixTimestamp64Nano({end_ns:Int64}))""".replace("FIVE", FIVE)
SERVICE: Final = "ServiceName = {service:String}"
SEVERITY: Final = LEVEL + " >= {severity:UInt8}"
TRACE_ID: Final = "TraceId = {trace_id:String}"
HAS_TRACE: Final = "TraceId != ''"
HAS_NO_TRACE: Final = "TraceId = ''"
# The first attribute filter as its own condition, which the exporter's bloom filters on the
# maps' values can prune with; all of them must hold on the record or on its resource.
FIRST_TAG: Final = """(LogAttributes[{tag_keys:Array(String)}[1]] = {tag_values:Array(String)}[1]
       OR ResourceAttributes[{tag_keys:Array(String)}[1]] = {tag_values:Array(String)}[1])"""
TAGS: Final = """arrayAll((k, v) -> LogAttributes[k] = v OR ResourceAttributes[k] = v,
                {tag_keys:Array(String)}, {tag_values:Array(String)})"""
# A business key: the records that carry it, and every record of the traces that carry it.
KEY: Final = """(LogAttributes[{key:String}] = {key_value:String} OR TraceId IN (
        SELECT TraceId FROM clew_business_keys
        WHERE Key = {key:String} AND Value = {key_value:String}))"""
WORDS: Final = "hasAllTokens(lower(Body), {words:Array(String)})"
PHRASES: Final = "arrayAll(p -> positionCaseInsensitiveUTF8(Body, p) > 0, {phrases:Array(String)})"
EXCLUDED: Final = "NOT hasAnyTokens(lower(Body), {excluded:Array(String)})"
EXCLUDED_PHRASES: Final = (
    "NOT arrayExists(p -> positionCaseInsensitiveUTF8(Body, p) > 0, "
    "{excluded_phrases:Array(String)})"
)


def where(filters: LogFilters) -> str:
    """The WHERE conditions of a search: the time range and the fragments of its filters."""
    text = filters.text
    wanted = [
        (True, IN_RANGE),
        (bool(filters.service), SERVICE),
        (filters.severity > 0, SEVERITY),
        (bool(filters.trace_id), TRACE_ID),
        (filters.has_trace == "yes", HAS_TRACE),
        (filters.has_trace == "no", HAS_NO_TRACE),
        (bool(filters.tags), FIRST_TAG),
        (len(filters.tags) > 1, TAGS),
        (bool(filters.key_value), KEY),
        (bool(text.required), WORDS),
        (bool(text.phrases), PHRASES),
        (bool(text.excluded), EXCLUDED),
        (bool(text.excluded_phrases), EXCLUDED_PHRASES),
    ]
    return "\n  AND ".join(fragment for used, fragment in wanted if used)


COLUMNS: Final = """toUnixTimestamp64Nano(Timestamp) AS TimeNs, TraceId, SpanId, SeverityText,
       SeverityNumber, ServiceName, Body, LogAttributes"""


def _filled(template: str) -> str:
    """A statement with the shared column list and severity expressions written out."""
    return (
        template.replace("FIVE", FIVE)
        .replace("COLUMNS", COLUMNS)
        .replace("LEVEL_NAME", LEVEL_NAME)
        .replace("LEVEL", LEVEL)
    )


# Newest first. Ties of one nanosecond are ordered by the reader (search.py), which reads a
# boundary's ties whole with TIES.
PAGE: Final = _filled("""
SELECT COLUMNS
FROM otel_logs
WHERE WHERE_CONDITIONS
  AND Timestamp < fromUnixTimestamp64Nano({before_ns:Int64})
  AND FIVE <= toStartOfFiveMinutes(fromUnixTimestamp64Nano({before_ns:Int64}))
ORDER BY Timestamp DESC
LIMIT {limit:UInt32}
""")
TIES: Final = _filled("""
SELECT COLUMNS
FROM otel_logs
WHERE WHERE_CONDITIONS
  AND Timestamp = fromUnixTimestamp64Nano({at_ns:Int64})
  AND FIVE = toStartOfFiveMinutes(fromUnixTimestamp64Nano({at_ns:Int64}))
LIMIT {limit:UInt32}
""")
# The newest lines after a point: what the live tail may not have sent yet.
AFTER_NEWEST: Final = _filled("""
SELECT COLUMNS
FROM otel_logs
WHERE WHERE_CONDITIONS
  AND Timestamp > fromUnixTimestamp64Nano({after_ns:Int64})
  AND FIVE >= toStartOfFiveMinutes(fromUnixTimestamp64Nano({after_ns:Int64}))
ORDER BY Timestamp DESC
LIMIT {limit:UInt32}
""")
HISTOGRAM: Final = _filled("""
SELECT intDiv(toUnixTimestamp64Nano(Timestamp) - {first_ns:Int64}, {step_ns:Int64}) AS bucket,
       LEVEL AS level_number, LEVEL_NAME AS level, count() AS n
FROM otel_logs
WHERE WHERE_CONDITIONS
GROUP BY bucket, level_number
ORDER BY bucket
LIMIT {limit:UInt32}
""")
# The same from schema/018's per-minute counts for the whole minutes of the range, and from
# the records for the partial minutes at its ends; for filters on time, service and
# severity only (VOLUME_CONDITIONS: those fragments, which name the same columns).
HISTOGRAM_FROM_VOLUME: Final = _filled("""
SELECT bucket, level_number, any(level) AS level, sum(n) AS n FROM (
    SELECT intDiv(toInt64(toUnixTimestamp(Minute)) * 1000000000 - {first_ns:Int64},
                  {step_ns:Int64}) AS bucket,
           LEVEL AS level_number, LEVEL_NAME AS level, sum(Count) AS n
    FROM clew_logs_volume
    WHERE Minute >= toDateTime(intDiv({inner_start_ns:Int64}, 1000000000))
      AND Minute < toDateTime(intDiv({inner_end_ns:Int64}, 1000000000))
      VOLUME_CONDITIONS
    GROUP BY bucket, level_number
    UNION ALL
    SELECT intDiv(toUnixTimestamp64Nano(Timestamp) - {first_ns:Int64}, {step_ns:Int64}) AS bucket,
           LEVEL AS level_number, LEVEL_NAME AS level, count() AS n
    FROM otel_logs
    WHERE WHERE_CONDITIONS
      AND (Timestamp < fromUnixTimestamp64Nano({inner_start_ns:Int64})
           OR Timestamp >= fromUnixTimestamp64Nano({inner_end_ns:Int64}))
      AND (FIVE <= toStartOfFiveMinutes(fromUnixTimestamp64Nano({inner_start_ns:Int64}))
           OR FIVE >= toStartOfFiveMinutes(fromUnixTimestamp64Nano({inner_end_ns:Int64})))
    GROUP BY bucket, level_number
)
GROUP BY bucket, level_number
ORDER BY bucket
LIMIT {limit:UInt32}
""")


def statement(template: str, filters: LogFilters) -> str:
    """`template` with the WHERE conditions of `filters` in place."""
    volume = [
        f"AND {fragment}"
        for used, fragment in ((bool(filters.service), SERVICE), (filters.severity > 0, SEVERITY))
        if used
    ]
    return template.replace("WHERE_CONDITIONS", where(filters)).replace(
        "VOLUME_CONDITIONS", "\n      ".join(volume)
    )


def volume_serves(filters: LogFilters) -> bool:
    """Whether schema/018's per-minute counts can answer the histogram of `filters`."""
    text = filters.text
    other = (filters.tags, filters.key_value, filters.trace_id, text.required, text.phrases,
             text.excluded, text.excluded_phrases)  # fmt: skip
    return filters.has_trace == "any" and not any(other)


# Context: the lines of one service around a moment, and the lines of one trace.
SERVICE_BEFORE: Final = _filled("""
SELECT COLUMNS FROM otel_logs
WHERE ServiceName = {service:String}
  AND Timestamp <= fromUnixTimestamp64Nano({at_ns:Int64})
  AND Timestamp >= fromUnixTimestamp64Nano({at_ns:Int64} - {window_ns:Int64})
  AND FIVE <= toStartOfFiveMinutes(fromUnixTimestamp64Nano({at_ns:Int64}))
  AND FIVE >= toStartOfFiveMinutes(fromUnixTimestamp64Nano({at_ns:Int64} - {window_ns:Int64}))
ORDER BY Timestamp DESC
LIMIT {limit:UInt32}
""")
SERVICE_AFTER: Final = _filled("""
SELECT COLUMNS FROM otel_logs
WHERE ServiceName = {service:String}
  AND Timestamp > fromUnixTimestamp64Nano({at_ns:Int64})
  AND Timestamp <= fromUnixTimestamp64Nano({at_ns:Int64} + {window_ns:Int64})
  AND FIVE >= toStartOfFiveMinutes(fromUnixTimestamp64Nano({at_ns:Int64}))
  AND FIVE <= toStartOfFiveMinutes(fromUnixTimestamp64Nano({at_ns:Int64} + {window_ns:Int64}))
ORDER BY Timestamp
LIMIT {limit:UInt32}
""")
OF_TRACE: Final = _filled("""
SELECT COLUMNS FROM otel_logs
WHERE TraceId = {trace_id:String}
  AND Timestamp >= fromUnixTimestamp64Nano({at_ns:Int64} - {window_ns:Int64})
  AND Timestamp <= fromUnixTimestamp64Nano({at_ns:Int64} + {window_ns:Int64})
  AND FIVE >= toStartOfFiveMinutes(fromUnixTimestamp64Nano({at_ns:Int64} - {window_ns:Int64}))
  AND FIVE <= toStartOfFiveMinutes(fromUnixTimestamp64Nano({at_ns:Int64} + {window_ns:Int64}))
ORDER BY Timestamp
LIMIT {limit:UInt32}
""")
# Which of a page's trace ids have a stored trace (a log may name a trace never received).
STORED_TRACES: Final = """
SELECT DISTINCT TraceId FROM otel_traces_trace_id_ts WHERE TraceId IN {trace_ids:Array(String)}
"""
