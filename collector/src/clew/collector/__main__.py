"""`python -m clew.collector` runs the `clew` command."""

from __future__ import annotations

from clew.collector.cli import main

main()
