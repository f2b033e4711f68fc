"""The health of the system: services, their map, and failures grouped by root cause.

Pages and the JSON API read the per-minute aggregate tables that the collector's views fill
at insert (schema/019-021) and the tables the overview job writes (schema/022-024):

- ranges.py: the range (lookback or start/end, 15 m ... 7 d) and its chart buckets;
- health.py: services and operations (requests, errors, p50/p95/p99), log severities;
- servicemap.py: nodes and edges (client -> server, Kafka producer -> topic -> consumer);
- failures.py: failure groups of the range, with "new", versions and examples;
- signature.py: a root cause's signature (masked message) and business-or-fault;
- job.py: the background job that pairs call halves into edges and groups failed orders;
- charts.py: the small SVG charts and the map, drawn on the server.

How and when the job runs, and how late data can arrive: docs/adr/0006-overview.md.
"""
