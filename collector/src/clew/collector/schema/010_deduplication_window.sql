-- Inserts carry deduplication tokens (the spool's position, docs/RELIABILITY.md) so a batch
-- retried after a lost answer, a restart or a crash is stored once. A non-replicated MergeTree
-- remembers no tokens unless it keeps a window of recent ones; replicated tables (the cluster
-- variant) always do. The ingest views' targets keep 1000; clew_ingest_otlp_skipped keeps none
-- on purpose: each attempt's list of skipped requests must be recorded afresh.
ALTER TABLE otel_traces MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE otel_traces_trace_id_ts MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE otel_logs MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE clew_business_keys MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE clew_span_links MODIFY SETTING non_replicated_deduplication_window = 1000;
