"""Every query of the overview pages and of the overview job, with typed parameters.

The pages read the per-minute aggregate tables of schema/019-024, never spans. A range is
(`start_s`, `end_s`) in Unix seconds, `start_s` at the start of its minute; a chart's points are
buckets of `step_s` seconds counted from `start_s`. Latency comes from quantilesDD sketches of
span durations in nanoseconds (1 % relative accuracy), as [p50, p95, p99].
"""

from __future__ import annotations

from typing import Final

_RANGE: Final = "Minute >= toDateTime({start_s:UInt32}) AND Minute <= toDateTime({end_s:UInt32})"
_BUCKET: Final = "intDiv(toUInt32(Minute) - {start_s:UInt32}, {step_s:UInt32}) AS Bucket"
_COUNTS: Final = "sum(Requests) AS Requests, sum(Errors) AS Errors"
# A chart's points come with the figures, in the same scan: (buckets, requests, errors).
# They are counts only: merging a sketch per point would double a page's cost.
# (Points reads the columns m.Requests and m.Errors, not the sums of the same names.)
_POINTS: Final = (
    "sumMap([toUInt32(intDiv(toUInt32(Minute) - {start_s:UInt32}, {step_s:UInt32}))],"
    " [toUInt64(m.Requests)], [toUInt64(m.Errors)]) AS Points"
)
_FIGURES: Final = (
    "sum(Requests) AS Requests, sum(Errors) AS Errors,"
    " quantilesDDMerge(0.01, 0.5, 0.95, 0.99)(Latency) AS Latency, " + _POINTS
)

# Every service's server and consumer spans over the range (empty `service`: all services).
SERVICES: Final = f"""
SELECT ServiceName, {_FIGURES}
FROM clew_service_minutes AS m
WHERE {_RANGE} AND ({{service:String}} = '' OR ServiceName = {{service:String}})
GROUP BY ServiceName
"""  # noqa: S608 - built from this module's constants only

OPERATIONS: Final = f"""
SELECT SpanName, {_FIGURES}
FROM clew_operation_minutes AS m
WHERE ServiceName = {{service:String}} AND {_RANGE}
GROUP BY SpanName
ORDER BY SpanName
"""  # noqa: S608 - built from this module's constants only

LOG_SERIES: Final = f"""
SELECT Severity, {_BUCKET}, sum(Records) AS Records
FROM clew_log_minutes
WHERE ServiceName = {{service:String}} AND {_RANGE}
GROUP BY Severity, Bucket
"""  # noqa: S608 - built from this module's constants only

# The map's nodes: counts only.
SERVICE_COUNTS: Final = f"""
SELECT ServiceName, {_COUNTS}
FROM clew_service_minutes
WHERE {_RANGE}
GROUP BY ServiceName
"""  # noqa: S608 - built from this module's constants only

# Client -> server edges (paired by the overview job); with `service`, only its own.
EDGES: Final = f"""
SELECT Source, Target, Kind, sum(Calls) AS Calls, sum(Errors) AS Errors,
    quantilesDDMerge(0.01, 0.5, 0.95, 0.99)(Latency) AS Latency
FROM clew_edge_minutes
WHERE {_RANGE}
  AND ({{service:String}} = '' OR Source = {{service:String}} OR Target = {{service:String}})
GROUP BY Source, Target, Kind
"""  # noqa: S608 - built from this module's constants only

# Producers and consumers of each Kafka topic; with `service`, of the topics it touches.
TOPICS: Final = f"""
SELECT Topic, Side, ServiceName, sum(Messages) AS Messages, sum(Errors) AS Errors,
    quantilesDDMerge(0.01, 0.5, 0.95, 0.99)(Latency) AS Latency
FROM clew_topic_minutes
WHERE {_RANGE}
  AND ({{service:String}} = '' OR Topic IN (
      SELECT Topic FROM clew_topic_minutes WHERE {_RANGE} AND ServiceName = {{service:String}}))
GROUP BY Topic, Side, ServiceName
"""  # noqa: S608 - built from this module's constants only

_FAILURES_IN_RANGE: Final = """
FROM clew_failures FINAL
WHERE Signature != ''
  AND Time >= toDateTime64({start_s:UInt32}, 9) AND Time <= toDateTime64({end_s:UInt32}, 9)
  AND ({service:String} = '' OR ServiceName = {service:String})
"""

# Failure groups of the range, the biggest first (Signature '' marks a diagnosed success).
FAILURE_GROUPS: Final = f"""
SELECT Signature, any(ServiceName) AS Service, any(Operation) AS Operation,
    sumMap([toUInt32(intDiv(toUInt32(toDateTime(Time)) - {{start_s:UInt32}}, {{step_s:UInt32}}))],
        [toUInt64(1)]) AS Points,
    any(ErrorType) AS ErrorType, any(Message) AS Message, max(Business) AS Business,
    count() AS Count,
    toUnixTimestamp64Nano(min(Time)) AS FirstNs, toUnixTimestamp64Nano(max(Time)) AS LastNs,
    arraySort(groupUniqArrayIf(Version, Version != '')) AS Versions,
    arraySlice(arrayReverseSort(x -> x.1, groupArray((toUnixTimestamp64Nano(Time), Key, Value,
        TraceId))), 1, {{examples:UInt8}}) AS Examples
{_FAILURES_IN_RANGE}
GROUP BY Signature
ORDER BY Count DESC, LastNs DESC, Signature
LIMIT {{limit:UInt32}}
"""

# The groups with when each signature was first seen at all ("new": inside the range).
FAILURE_GROUPS_EVER: Final = f"""
SELECT g.*, e.EverNs AS EverNs
FROM ({FAILURE_GROUPS}) AS g
LEFT JOIN (
    SELECT Signature, toUnixTimestamp64Nano(min(Time)) AS EverNs
    FROM clew_failures FINAL
    WHERE Signature != ''
    GROUP BY Signature
) AS e ON g.Signature = e.Signature
ORDER BY Count DESC, LastNs DESC, Signature
"""  # noqa: S608 - built from this module's constants only

# ---- the overview job (writes; run over the collector's store, never the UI's) ----

PROGRESS: Final = """
SELECT toUnixTimestamp64Milli(argMax(Upto, Updated)) AS UptoMs, count() AS Known
FROM clew_overview_progress
WHERE Job = {job:String}
"""

SET_PROGRESS: Final = """
INSERT INTO clew_overview_progress (Job, Upto, Updated)
SELECT {job:String}, fromUnixTimestamp64Milli({upto_ms:Int64}), now64(3)
"""

# Client halves of the window joined to their server halves (which may start a little
# before or after their client: clocks differ), one edge row per minute and pair of services.
PAIR_EDGES: Final = """
INSERT INTO clew_edge_minutes
SELECT toStartOfMinute(c.Timestamp) AS Minute, c.ServiceName AS Source,
    multiIf(s.ServiceName != '', s.ServiceName, c.Peer != '', c.Peer, 'unknown') AS Target,
    c.Kind AS Kind, toUInt64(count()) AS Calls, toUInt64(sum(c.Error)) AS Errors,
    quantilesDDState(0.01, 0.5, 0.95, 0.99)(c.Duration) AS Latency
FROM (
    SELECT Timestamp, TraceId, SpanId, ServiceName, Kind, Peer, Duration, Error
    FROM clew_call_halves
    WHERE Side = 'client'
      AND Timestamp >= fromUnixTimestamp64Milli({from_ms:Int64})
      AND Timestamp < fromUnixTimestamp64Milli({to_ms:Int64})
) AS c
LEFT JOIN (
    SELECT TraceId, SpanId, any(ServiceName) AS ServiceName
    FROM clew_call_halves
    WHERE Side = 'server'
      AND Timestamp >= fromUnixTimestamp64Milli({from_ms:Int64} - {margin_ms:Int64})
      AND Timestamp < fromUnixTimestamp64Milli({to_ms:Int64} + {margin_ms:Int64})
    GROUP BY TraceId, SpanId
) AS s ON c.TraceId = s.TraceId AND c.SpanId = s.SpanId
GROUP BY Minute, Source, Target, Kind
"""

# Business key values with an error whose data stopped arriving before `quiet_ns`.
FAILED_KEYS: Final = """
SELECT Key, Value, toUnixTimestamp64Nano(max(LastSeen)) AS LastNs
FROM clew_business_keys
WHERE Key IN {keys:Array(String)} AND LastSeen >= fromUnixTimestamp64Nano({since_ns:Int64})
GROUP BY Key, Value
HAVING max(HasError) = 1 AND LastNs < {quiet_ns:Int64}
ORDER BY LastNs
LIMIT {limit:UInt32}
"""

# Traces with a failed span and no business key, quiet since `quiet_ns`.
FAILED_TRACES: Final = """
SELECT TraceId, toUnixTimestamp64Nano(max(Timestamp)) AS LastNs
FROM clew_failed_spans
WHERE Timestamp >= fromUnixTimestamp64Nano({since_ns:Int64})
  AND TraceId NOT IN (
      SELECT TraceId FROM clew_business_keys
      WHERE LastSeen >= fromUnixTimestamp64Nano({since_ns:Int64} - {margin_ns:Int64}))
GROUP BY TraceId
HAVING LastNs < {quiet_ns:Int64}
ORDER BY LastNs
LIMIT {limit:UInt32}
"""

# What the job already grouped, with the last data it had seen then.
GROUPED: Final = """
SELECT Key, Value, toUnixTimestamp64Nano(max(LastSeen)) AS LastNs
FROM clew_failures
WHERE Key IN {keys:Array(String)} AND Value IN {values:Array(String)}
GROUP BY Key, Value
"""
