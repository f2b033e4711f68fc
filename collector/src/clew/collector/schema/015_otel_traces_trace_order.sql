-- otel_traces' spans kept a second time in trace-id order (docs/adr/0003-trace-by-id.md). In
-- the table's own order a trace's spans sit in a granule per service and span name, each read
-- whole; in this projection they are one short range, which is what brings a trace by id at
-- 10M spans under 30 ms. A trace by id is read by `TraceId IN ...` alone (ADR 0007: the time
-- range from otel_traces_trace_id_ts cost more than it saved), which ClickHouse answers from
-- the projection where a part has it and from the table (bloom filter) where it does not.
-- Cost: about as much disk again as
-- otel_traces and more CPU per written span. New parts get it at insert; parts written before
-- this file only by: ALTER TABLE otel_traces MATERIALIZE PROJECTION trace_order.
ALTER TABLE otel_traces ADD PROJECTION IF NOT EXISTS trace_order (SELECT * ORDER BY TraceId);
