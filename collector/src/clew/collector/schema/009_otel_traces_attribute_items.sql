-- The exporter's current traces template also has these ALIAS columns ('key=value' items, for
-- text indexes on newer servers). An ALIAS is computed at read time: nothing is stored, and
-- SELECT * leaves it out. ALTER ... IF NOT EXISTS adds them to tables made before this file.
ALTER TABLE otel_traces ADD COLUMN IF NOT EXISTS ResourceAttributeItems Array(String)
    ALIAS arrayMap(kv -> concat(kv.1, '=', kv.2), CAST(ResourceAttributes, 'Array(Tuple(String, String))'))
    AFTER Links;

ALTER TABLE otel_traces ADD COLUMN IF NOT EXISTS SpanAttributeItems Array(String)
    ALIAS arrayMap(kv -> concat(kv.1, '=', kv.2), CAST(SpanAttributes, 'Array(Tuple(String, String))'))
    AFTER ResourceAttributeItems;
