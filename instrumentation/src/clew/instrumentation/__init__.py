"""clew instrumentation."""
