-- A bloom filter on the linked trace id. The reads of links to some traces (the back-links of
-- every trace read, the traces linking to a story's traces in every diagnosis) look for ids
-- that most parts do not hold; the sorting key alone still reads a granule of each part (and
-- of each day) to find that out: 12 granules, 8 MB decompressed, for no row, on the 10M-span
-- bench store. With the index, the diagnosis took 59 ms p50 against 66 and trace by id 43
-- against 47 (docs/adr/0007-performance.md); it adds 2 % to this table.
-- New parts get it at insert; parts written before it are read as before (the same answer)
-- until: ALTER TABLE clew_span_links MATERIALIZE INDEX idx_linked_trace_id.
ALTER TABLE clew_span_links ADD INDEX IF NOT EXISTS idx_linked_trace_id LinkedTraceId
    TYPE bloom_filter(0.01) GRANULARITY 1;
