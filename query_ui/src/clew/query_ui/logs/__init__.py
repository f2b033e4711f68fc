"""The logs explorer: search, histogram, context and live tail over `otel_logs`.

filters.py parses the query string, queries.py holds the SQL, search.py pages newest first by
a cursor, histogram.py counts by severity, context.py reads the lines around one, tail.py
follows new lines as server-sent events.
"""
