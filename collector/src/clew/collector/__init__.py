"""clew collector."""
