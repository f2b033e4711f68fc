"""clew query_ui."""
