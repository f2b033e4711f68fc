"""What the collector and the query UI share, and nothing else: the store interface
(store.py), the bearer-token check (auth.py), TLS certificate files (tls.py) and the settings
both read (settings.py).

Shipped with clew-collector. It imports nothing of clew but itself; clew.collector and
clew.query_ui import it (tests/test_imports.py holds the allowed directions).
"""
