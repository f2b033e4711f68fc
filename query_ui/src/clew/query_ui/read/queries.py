"""Every query the read side runs (pages, API, CLI, explainer): named constants with
ClickHouse typed parameters.

Values never enter the SQL text; they are bound server-side (`{trace_id:String}`).
Times go in and come out as Unix nanoseconds (`fromUnixTimestamp64Nano` / `toUnixTimestamp64Nano`)
so no reader depends on how a backend renders DateTime64. A span failed (read/failed.py) when
its status is Error, it carries an exception event, its HTTP status is 500 or more, or a log
record at ERROR or above was written in it; SQL reads that from the collector's failed-span index
(schema/016), which a test checks against read/failed.py.
"""

from __future__ import annotations

from typing import Final

# Limits: every query runs with a time limit, at which ClickHouse stops and returns what it
# found ('break': a stream cut by an exception cannot be parsed); the reader notices from the
# elapsed time and says so. Row limits are LIMIT n+1, so reaching one is visible too.
QUERY_SETTINGS: Final[dict[str, float | str]] = {
    "max_execution_time": 10,
    "timeout_overflow_mode": "break",
}
# A trace's spans are read from schema/015's trace_order projection; ClickHouse's lazy
# materialization (for ORDER BY ... LIMIT n) reads from the table instead, so it is off there.
TRACE_READ_SETTINGS: Final[dict[str, float | str]] = QUERY_SETTINGS | {
    "query_plan_optimize_lazy_materialization": 0,
}
MAX_SPANS: Final = 10_000
MAX_LOGS: Final = 5_000
MAX_KEY_TRACES: Final = 200
MAX_LINKS: Final = 1_000
MAX_PAGE: Final = 100
# Logs are written during a span, so they fall inside the spans' time range; the margin is
# for clocks of different hosts.
LOG_MARGIN_NS: Final = 60 * 10**9

TRACE_TIME_RANGE: Final = """
SELECT toInt64(toUnixTimestamp(min(Start))) AS start_s, toInt64(toUnixTimestamp(max(End))) AS end_s,
       count() AS n
FROM otel_traces_trace_id_ts
WHERE TraceId = {trace_id:String}
"""

TRACES_TIME_RANGE: Final = """
SELECT toInt64(toUnixTimestamp(min(Start))) AS start_s, toInt64(toUnixTimestamp(max(End))) AS end_s,
       count() AS n
FROM otel_traces_trace_id_ts
WHERE TraceId IN {trace_ids:Array(String)}
"""

# A span's columns, as read/load.py's read_spans reads them; with the resource and scope for
# pages (the diagnosis does without: on 10M spans the resource map made its read about half as
# slow again).
_SPAN_COLUMNS: Final = """
SELECT TraceId, SpanId, ParentSpanId, SpanName, SpanKind, ServiceName,
       toUnixTimestamp64Nano(Timestamp) AS StartNs, Duration, StatusCode, StatusMessage,
       SpanAttributes,
       arrayMap(t -> toUnixTimestamp64Nano(t), Events.Timestamp) AS EventTimesNs,
       Events.Name AS EventNames, Events.Attributes AS EventAttributes,
       Links.TraceId AS LinkTraceIds, Links.SpanId AS LinkSpanIds,
       Links.Attributes AS LinkAttributes"""
_RESOURCE_COLUMNS: Final = ", ResourceAttributes, ScopeName, ScopeVersion"

# Whole traces by id, by TraceId alone: schema/015's trace_order projection is sorted by it, so
# each part's projection index finds a trace's one short range, whatever its age (with
# TRACE_READ_SETTINGS). A time range from the trace-id lookup table (a scalar subquery and a
# Timestamp filter) cost about 40 % of this query at 100k spans (docs/adr/0007-performance.md).
# Parts without the projection (written before 015 and not materialized) are read through the
# TraceId bloom filter, all their days.
_BY_TRACE_ID: Final = """
FROM otel_traces
WHERE TraceId IN {trace_ids:Array(String)}
ORDER BY Timestamp, SpanId
LIMIT {limit:UInt32}"""
# Traces read side by side (a trace page, a comparison): the first {limit} spans of each; the
# statistics, comparison and flame graph, which never show a resource, read without it.
SPANS_OF_TRACES: Final = _SPAN_COLUMNS + _BY_TRACE_ID + " BY TraceId\n"
SPANS_WITH_RESOURCE_OF_TRACES: Final = (
    _SPAN_COLUMNS + _RESOURCE_COLUMNS + _BY_TRACE_ID + " BY TraceId\n"
)
# A story's traces, all in one query: the first {limit} spans of them together.
SPANS_OF_STORY: Final = _SPAN_COLUMNS + _BY_TRACE_ID + "\n"
SPANS_WITH_RESOURCE_OF_STORY: Final = _SPAN_COLUMNS + _RESOURCE_COLUMNS + _BY_TRACE_ID + "\n"

# Traces whose spans link to these traces: consumers that started their own trace, relays.
TRACES_LINKING_TO: Final = """
SELECT DISTINCT TraceId
FROM clew_span_links
WHERE LinkedTraceId IN {trace_ids:Array(String)} AND TraceId NOT IN {trace_ids:Array(String)}
LIMIT {limit:UInt32}
"""

# Logs written in the traces, and (with a key) logs that carry the key without a trace.
LOGS_OF_TRACES: Final = """
SELECT toUnixTimestamp64Nano(Timestamp) AS TimeNs, TraceId, SpanId, SeverityText, SeverityNumber,
       ServiceName, Body, LogAttributes
FROM otel_logs
WHERE (TraceId IN {trace_ids:Array(String)}
       OR ({key:String} != '' AND LogAttributes[{key:String}] = {value:String}))
  AND Timestamp >= fromUnixTimestamp64Nano({start_ns:Int64})
  AND Timestamp <= fromUnixTimestamp64Nano({end_ns:Int64})
ORDER BY Timestamp, SpanId
LIMIT {limit:UInt32}
"""

# The spans that wrote an ERROR log, for reads that do not load the logs themselves: the
# failed-span index's rows for such logs (schema/016), found by the trace id's bloom filter
# (schema/026) whatever their time, so no lookup of the traces' time comes first.
ERROR_LOGGED_SPANS: Final = """
SELECT DISTINCT TraceId, SpanId FROM clew_failed_spans
WHERE TraceId IN {trace_ids:Array(String)} AND Reason = 'error_log'
LIMIT {limit:UInt32}
"""

# No ORDER BY: sorting would read every part's rows first; the reader sorts the few it gets.
# Traces read together (a comparison) share the query, each with its own first {limit}.
BACK_LINKS: Final = """
SELECT LinkedTraceId, LinkedSpanId, TraceId, SpanId, ServiceName, SpanName,
       toUnixTimestamp64Nano(Timestamp) AS StartNs, Attributes
FROM clew_span_links
WHERE LinkedTraceId IN {trace_ids:Array(String)}
LIMIT {limit:UInt32} BY LinkedTraceId
"""

# The spans at the other end of links (a consumer's producer), for their service and time.
LINKED_SPANS: Final = """
SELECT TraceId, SpanId, ServiceName, SpanName, toUnixTimestamp64Nano(Timestamp) AS StartNs
FROM otel_traces
WHERE TraceId IN {trace_ids:Array(String)} AND SpanId IN {span_ids:Array(String)}
  AND Timestamp >= fromUnixTimestamp64Nano({start_ns:Int64})
  AND Timestamp <= fromUnixTimestamp64Nano({end_ns:Int64})
LIMIT {limit:UInt32}
"""

# The traces of a business key value (the business-key index), first seen first, with when
# each was first and last seen and, for the key's page, the services they went through.
_KEY_TRACE_TIMES: Final = """
SELECT TraceId, toUnixTimestamp64Nano(min(FirstSeen)) AS FirstNs,
       toUnixTimestamp64Nano(max(LastSeen)) AS LastNs"""
_OF_KEY: Final = """
FROM clew_business_keys
WHERE Key = {key:String} AND Value = {value:String}
GROUP BY TraceId
ORDER BY FirstNs, TraceId
LIMIT {limit:UInt32}
"""
TRACES_OF_KEY: Final = (
    _KEY_TRACE_TIMES + ",\n       arraySort(groupUniqArrayArray(Services)) AS Services" + _OF_KEY
)
# The same traces for a story's read, which needs only when each was seen: without the
# services, an array per row to read and merge (2-3 ms of each diagnosis on 10M spans).
STORY_TRACES_OF_KEY: Final = _KEY_TRACE_TIMES + _OF_KEY

# Which of some traces have a failed span (has_error of a business key's traces).
FAILED_TRACES: Final = """
SELECT DISTINCT TraceId FROM clew_failed_spans
WHERE TraceId IN {trace_ids:Array(String)}
  AND Timestamp >= fromUnixTimestamp64Nano({start_ns:Int64})
  AND Timestamp <= fromUnixTimestamp64Nano({end_ns:Int64})
"""

BUSINESS_KEYS_OF_VALUE: Final = """
SELECT DISTINCT Key FROM clew_business_keys
WHERE Value = {value:String} AND Key IN {keys:Array(String)}
LIMIT 10
"""

# A failed span (read/failed.py), from the failed-span index that the
# collector's schema/016 fills at insert time: a span of the range failed when its
# (TraceId, SpanId) is in `failed_spans` (a WITH subquery of the queries that use it). Log rows
# carry the log's time, inside its span's time range give or take the clocks of different
# hosts: hence the margin.
_FAILED_SPAN: Final = "((TraceId, SpanId) IN failed_spans)"
_FAILED_SPANS: Final = """failed_spans AS (
    SELECT TraceId, SpanId FROM clew_failed_spans
    WHERE Timestamp >= fromUnixTimestamp64Nano({start_ns:Int64} - {margin_ns:Int64})
      AND Timestamp <= fromUnixTimestamp64Nano({end_ns:Int64} + {margin_ns:Int64}))"""

# Whole-trace search, in two steps. First the matching traces of the time range, grouped by
# trace, every condition a HAVING over the whole trace ("service checkout and any span errored"
# means any span of the trace), reading only the columns the conditions need; then the summary
# of the page of traces found (root, services, failed spans). A condition that a trace meets
# when one of its spans does (service, error, first attribute, business key) is also a WHERE
# TraceId IN (its spans), so only candidate traces are grouped; its subquery reads nothing when
# the filter is not set. Failed spans are counted in the first step only when a status filter
# or the errors sort needs them (the _COUNTING_FAILURES queries): they need the SpanId column
# and the failed-span index. With status=error the traces of the index are the candidates (far
# fewer than a service's spans).
_SEARCH_TEMPLATE: Final = """
WITH {tag_keys:Array(String)} AS tag_keys, {tag_values:Array(String)} AS tag_values
     FAILED_SPANS
SELECT TraceId AS trace_id,
       toUnixTimestamp64Nano(min(Timestamp)) AS start_ns,
       toInt64(max(toUnixTimestamp64Nano(Timestamp) + Duration)) - start_ns AS duration_ns,
       count() AS span_count,
       ERROR_COUNT AS error_count
FROM otel_traces
WHERE Timestamp >= fromUnixTimestamp64Nano({start_ns:Int64})
  AND Timestamp <= fromUnixTimestamp64Nano({end_ns:Int64})
  AND ({service:String} = '' OR {status:String} = 'error' OR TraceId IN (
        SELECT TraceId FROM otel_traces
        WHERE ServiceName = {service:String} AND {status:String} != 'error'
          AND Timestamp >= fromUnixTimestamp64Nano({start_ns:Int64})
          AND Timestamp <= fromUnixTimestamp64Nano({end_ns:Int64})))
  STATUS_PREFILTER
  AND ({key_value:String} = '' OR TraceId IN (
        SELECT TraceId FROM clew_business_keys
        WHERE Key = {key:String} AND Value = {key_value:String}))
  ATTRIBUTE_PREFILTER
GROUP BY TraceId
HAVING ({service:String} = '' OR countIf(ServiceName = {service:String}
          AND ({operation:String} = '' OR SpanName = {operation:String})) > 0)
   AND ({service:String} != '' OR {operation:String} = ''
        OR countIf(SpanName = {operation:String}) > 0)
   AND multiIf({status:String} = 'error', error_count > 0,
               {status:String} = 'ok', error_count = 0, 1)
   AND duration_ns >= {min_duration_ns:Int64}
   AND ({max_duration_ns:Int64} = 0 OR duration_ns <= {max_duration_ns:Int64})
   ATTRIBUTE_CONDITION
ORDER BY multiIf({sort:String} = 'duration', toFloat64(duration_ns),
                 {sort:String} = 'spans', toFloat64(span_count),
                 {sort:String} = 'errors', toFloat64(error_count),
                 toFloat64(start_ns)) * if({descending:Bool}, -1, 1), trace_id
LIMIT {limit:UInt32} OFFSET {offset:UInt32}
"""
_STATUS_PREFILTER: Final = """AND ({status:String} != 'error'
        OR TraceId IN (SELECT TraceId FROM failed_spans))"""
# Attribute filters are bits: each span sets the bits of the filters it matches; the trace
# matches when the OR over its spans has them all. A separate query, because reading the two
# attribute maps of every span in the range is most of the cost of a search.
_ATTRIBUTE_CONDITION: Final = """AND groupBitOr(toUInt64(arraySum(arrayMap(
          i -> toUInt64(if(SpanAttributes[tag_keys[i]] = tag_values[i]
                           OR ResourceAttributes[tag_keys[i]] = tag_values[i],
                           bitShiftLeft(toUInt64(1), toUInt8(i - 1)), 0)),
          arrayEnumerate(tag_keys))))) = {tag_mask:UInt64}"""
# A matching trace has a span with the first attribute: the attribute-value bloom filters
# find those spans without reading every map when the value is rare (an id, a customer).
_ATTRIBUTE_PREFILTER: Final = """AND TraceId IN (
        SELECT TraceId FROM otel_traces
        WHERE Timestamp >= fromUnixTimestamp64Nano({start_ns:Int64})
          AND Timestamp <= fromUnixTimestamp64Nano({end_ns:Int64})
          AND (SpanAttributes[tag_keys[1]] = tag_values[1]
               OR ResourceAttributes[tag_keys[1]] = tag_values[1]))"""
_COUNTING: Final = (
    _SEARCH_TEMPLATE.replace("FAILED_SPANS", ", " + _FAILED_SPANS)
    .replace("ERROR_COUNT", f"countIf({_FAILED_SPAN})")
    .replace("STATUS_PREFILTER", _STATUS_PREFILTER)
)
_NOT_COUNTING: Final = (
    _SEARCH_TEMPLATE.replace("\n     FAILED_SPANS", "")
    .replace("ERROR_COUNT", "toUInt64(0)")
    .replace("  STATUS_PREFILTER\n", "")
)
SEARCH_TRACES: Final = _NOT_COUNTING.replace("ATTRIBUTE_CONDITION", "").replace(
    "  ATTRIBUTE_PREFILTER\n", ""
)
SEARCH_TRACES_BY_ATTRIBUTES: Final = _NOT_COUNTING.replace(
    "ATTRIBUTE_CONDITION", _ATTRIBUTE_CONDITION
).replace("ATTRIBUTE_PREFILTER", _ATTRIBUTE_PREFILTER)
SEARCH_TRACES_COUNTING_FAILURES: Final = _COUNTING.replace("ATTRIBUTE_CONDITION", "").replace(
    "  ATTRIBUTE_PREFILTER\n", ""
)
SEARCH_TRACES_BY_ATTRIBUTES_COUNTING_FAILURES: Final = _COUNTING.replace(
    "ATTRIBUTE_CONDITION", _ATTRIBUTE_CONDITION
).replace("ATTRIBUTE_PREFILTER", _ATTRIBUTE_PREFILTER)

TRACE_SUMMARIES: Final = """
WITH FAILED_SPANS
SELECT TraceId AS trace_id,
       argMinIf(ServiceName, Timestamp, ParentSpanId = '') AS root_service_found,
       argMinIf(SpanName, Timestamp, ParentSpanId = '') AS root_name_found,
       if(root_service_found = '', argMin(ServiceName, Timestamp), root_service_found)
           AS root_service,
       if(root_service_found = '', argMin(SpanName, Timestamp), root_name_found) AS root_name,
       arraySort(groupUniqArray(ServiceName)) AS services,
       countIf(FAILED_SPAN) AS error_count
FROM otel_traces
WHERE TraceId IN {trace_ids:Array(String)}
  AND Timestamp >= fromUnixTimestamp64Nano({start_ns:Int64})
  AND Timestamp <= fromUnixTimestamp64Nano({end_ns:Int64})
GROUP BY TraceId
""".replace("FAILED_SPANS", _FAILED_SPANS).replace("FAILED_SPAN", _FAILED_SPAN)

SERVICES: Final = """
SELECT DISTINCT ServiceName FROM otel_traces
WHERE Timestamp >= now64(9) - toIntervalDay(7) ORDER BY ServiceName LIMIT 500
"""

# Who else was on a table while a database call waited (explain/contention.py), in two reads.
# SPANS_ON_TABLE: the spans of other traces that touched the table in a time window: its
# db.collection.name or db.sql.table is the table, or its name holds it as a word (`UPDATE
# accounts`, the semantic conventions' span name), both found through skip indexes; or, in the
# services given (those that use the table: the ServiceName key prefix keeps this cheap), its
# statement names it.
SPANS_ON_TABLE: Final = """
SELECT
    TraceId, SpanId, ParentSpanId, SpanName, SpanKind, ServiceName,
    toUnixTimestamp64Nano(Timestamp) AS StartNs, Duration,
    SpanAttributes['db.query.text'] AS QueryText, SpanAttributes['db.statement'] AS Statement,
    SpanAttributes['db.collection.name'] AS Collection, SpanAttributes['db.sql.table'] AS SqlTable
FROM otel_traces
WHERE Timestamp >= fromUnixTimestamp64Nano({since_ns:Int64})
  AND Timestamp <= fromUnixTimestamp64Nano({until_ns:Int64})
  AND TraceId NOT IN {exclude_trace_ids:Array(String)}
  AND (SpanAttributes['db.collection.name'] = {table:String}
       OR SpanAttributes['db.sql.table'] = {table:String}
       OR hasTokenOrNull(lower(SpanName), {table_lower:String}) = 1
       OR (ServiceName IN {services:Array(String)}
           AND (match(SpanAttributes['db.query.text'], {pattern:String})
                OR match(SpanAttributes['db.statement'], {pattern:String}))))
LIMIT {limit:UInt32}
"""
# SPANS_RUNNING_AT: the spans of those traces still running when the wait began (the job or
# transaction around such a statement, which may have held the lock since); by trace id, so
# the trace_order projection answers it.
SPANS_RUNNING_AT: Final = """
SELECT
    TraceId, SpanId, ParentSpanId, SpanName, SpanKind, ServiceName,
    toUnixTimestamp64Nano(Timestamp) AS StartNs, Duration
FROM otel_traces
WHERE TraceId IN {trace_ids:Array(String)}
  AND Timestamp >= fromUnixTimestamp64Nano({since_ns:Int64})
  AND Timestamp <= fromUnixTimestamp64Nano({until_ns:Int64})
  AND toUnixTimestamp64Nano(Timestamp) + Duration >= {wait_start_ns:Int64}
LIMIT {limit:UInt32}
"""

# The values of a business key with the same entry operation as one value (a root span of that
# service and name) near a time, nearest first, leaving out every value with a failed span (the
# failed-span index holds read/failed.py's failed spans): compare.py's "similar order that
# succeeded".
NEAREST_SUCCEEDED: Final = """
SELECT k.Value AS value, t.TraceId AS trace_id,
       abs(toUnixTimestamp64Nano(t.Timestamp) - {at_ns:Int64}) AS distance_ns
FROM otel_traces AS t
INNER JOIN (
    SELECT DISTINCT Value, TraceId FROM clew_business_keys
    WHERE Key = {key:String} AND Value != {value:String}
      AND FirstSeen BETWEEN fromUnixTimestamp64Nano({start_ns:Int64})
                        AND fromUnixTimestamp64Nano({end_ns:Int64})
) AS k ON t.TraceId = k.TraceId
WHERE t.Timestamp BETWEEN fromUnixTimestamp64Nano({start_ns:Int64})
                      AND fromUnixTimestamp64Nano({end_ns:Int64})
  AND t.ParentSpanId = '' AND t.ServiceName = {service:String} AND t.SpanName = {operation:String}
  AND k.Value NOT IN (
    SELECT Value FROM clew_business_keys
    WHERE Key = {key:String} AND TraceId IN (
        SELECT TraceId FROM clew_failed_spans
        WHERE Timestamp BETWEEN fromUnixTimestamp64Nano({start_ns:Int64}) - INTERVAL 1 HOUR
                            AND fromUnixTimestamp64Nano({end_ns:Int64}) + INTERVAL 1 HOUR))
ORDER BY distance_ns, value
LIMIT {limit:UInt32}
"""
