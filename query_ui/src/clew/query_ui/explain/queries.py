"""Every query the explainer runs, as named constants with typed parameters.

Times cross the boundary as integer nanoseconds (toUnixTimestamp64Nano), so nothing depends on
how a backend renders DateTime64.
"""

from __future__ import annotations

# The traces a business key was seen in (spans or logs), the earliest first.
TRACES_OF_KEY = """
SELECT
    TraceId,
    toUnixTimestamp64Nano(min(FirstSeen)) AS FirstNs,
    toUnixTimestamp64Nano(max(LastSeen)) AS LastNs
FROM clew_business_keys
WHERE Key = {key:String} AND Value = {value:String}
GROUP BY TraceId
ORDER BY FirstNs, TraceId
LIMIT {limit:UInt32}
"""

# Each trace's time range, so that otel_traces is read only in the partitions that hold it.
# End is max(span start) truncated to the second, hence the extra second in SPANS_OF_TRACES.
TRACE_TIME_RANGES = """
SELECT TraceId, toUnixTimestamp(min(Start)) AS StartS, toUnixTimestamp(max(End)) AS EndS
FROM otel_traces_trace_id_ts
WHERE TraceId IN {trace_ids:Array(String)}
GROUP BY TraceId
"""

_SPAN_COLUMNS = """
SELECT
    TraceId, SpanId, ParentSpanId, SpanName, SpanKind, ServiceName,
    toUnixTimestamp64Nano(Timestamp) AS StartNs, Duration, StatusCode, StatusMessage,
    SpanAttributes,
    arrayMap(t -> toUnixTimestamp64Nano(t), Events.Timestamp) AS EventTimesNs,
    Events.Name AS EventNames, Events.Attributes AS EventAttributes,
    Links.TraceId AS LinkTraceIds, Links.SpanId AS LinkSpanIds, Links.Attributes AS LinkAttributes
"""
_SPANS_FROM = """
FROM otel_traces
WHERE TraceId IN {trace_ids:Array(String)}
  AND Timestamp >= toDateTime64({start_s:Int64}, 9)
  AND Timestamp < toDateTime64({end_s:Int64} + 1, 9)
ORDER BY Timestamp
LIMIT {limit:UInt32}
"""
SPANS_OF_TRACES = _SPAN_COLUMNS + _SPANS_FROM
# For pages that show each span's resource and scope. The diagnosis does without them: on 10M
# spans the resource map made this read about half as slow again.
SPANS_WITH_RESOURCE_OF_TRACES = _SPAN_COLUMNS + ", ResourceAttributes, ScopeName" + _SPANS_FROM

# Traces whose spans link to these traces: consumers that started their own trace, relays.
TRACES_LINKING_TO = """
SELECT DISTINCT TraceId
FROM clew_span_links
WHERE LinkedTraceId IN {trace_ids:Array(String)} AND TraceId NOT IN {trace_ids:Array(String)}
LIMIT {limit:UInt32}
"""

# Logs written in the story's traces, and logs that carry the key without a trace.
LOGS_OF_STORY = """
SELECT
    toUnixTimestamp64Nano(Timestamp) AS TimeNs, TraceId, SpanId, ServiceName,
    SeverityText, SeverityNumber, Body, LogAttributes
FROM otel_logs
WHERE Timestamp >= fromUnixTimestamp64Nano({start_ns:Int64})
  AND Timestamp <= fromUnixTimestamp64Nano({end_ns:Int64})
  AND (TraceId IN {trace_ids:Array(String)} OR LogAttributes[{key:String}] = {value:String})
ORDER BY Timestamp
LIMIT {limit:UInt32}
"""

# Spans of other traces that touched a table in a time window: who else was on the table while
# a database call was slow (explain/contention.py). The name or the statement names the table.
SPANS_TOUCHING_TABLE = """
SELECT DISTINCT TraceId
FROM otel_traces
WHERE Timestamp >= fromUnixTimestamp64Nano({since_ns:Int64})
  AND Timestamp <= fromUnixTimestamp64Nano({until_ns:Int64})
  AND TraceId NOT IN {trace_ids:Array(String)}
  AND (SpanAttributes['db.collection.name'] = {table:String}
       OR SpanAttributes['db.sql.table'] = {table:String}
       OR match(SpanAttributes['db.query.text'], {pattern:String})
       OR match(SpanAttributes['db.statement'], {pattern:String}))
LIMIT {limit:UInt32}
"""
