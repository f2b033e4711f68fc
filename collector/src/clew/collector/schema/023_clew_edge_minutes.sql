-- Client -> server edges of the service map per minute, written by the overview job from
-- clew_call_halves (pairs found by trace and span id); a client span without a server half
-- calls `Peer` (peer.service, server.address), an uninstrumented service such as a provider.
-- clew_overview_progress holds how far each job has got, so a restart resumes there.
CREATE TABLE IF NOT EXISTS clew_edge_minutes (
    Minute DateTime CODEC(Delta(4), ZSTD(1)),
    Source LowCardinality(String) CODEC(ZSTD(1)),
    Target LowCardinality(String) CODEC(ZSTD(1)),
    Kind LowCardinality(String) CODEC(ZSTD(1)),
    Calls SimpleAggregateFunction(sum, UInt64),
    Errors SimpleAggregateFunction(sum, UInt64),
    Latency AggregateFunction(quantilesDD(0.01, 0.5, 0.95, 0.99), UInt64)
) ENGINE = AggregatingMergeTree
PARTITION BY toDate(Minute)
ORDER BY (Minute, Source, Target, Kind)
TTL Minute + toIntervalDay({retention_days})
SETTINGS ttl_only_drop_parts = 1, non_replicated_deduplication_window = 1000;

CREATE TABLE IF NOT EXISTS clew_overview_progress (
    Job LowCardinality(String),
    Upto DateTime64(3),
    Updated DateTime64(3)
) ENGINE = ReplacingMergeTree(Updated)
ORDER BY Job;
