"""`clew serve` as a real process. Filled in by the collector work."""
