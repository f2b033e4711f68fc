"""Numbered, idempotent DDL files, applied in order at start-up (see apply.py)."""
