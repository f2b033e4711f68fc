-- Full-text search over log bodies with ClickHouse's own text index (an inverted index,
-- generally available since ClickHouse 26.2; docs/adr/0005-log-search.md). The exporter's
-- columns and its token bloom filter idx_lower_body stay as they are; this index is added
-- beside it. It indexes lower(Body) split at every character that is not an ASCII letter or
-- digit, the tokens the exporter's bloom filter uses, so `hasAllTokens(lower(Body), [...])`
-- (what the logs search runs) is answered from the index's postings without reading Body.
-- New parts get it at insert; parts written before this file keep working (a brute-force
-- scan, same results) until: ALTER TABLE otel_logs MATERIALIZE INDEX idx_body_text.
ALTER TABLE otel_logs ADD INDEX IF NOT EXISTS idx_body_text lower(Body)
    TYPE text(tokenizer = splitByNonAlpha);
