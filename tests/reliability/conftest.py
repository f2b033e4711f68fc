"""Reliability tests: real `clew serve` processes under load and faults (see load.py)."""
