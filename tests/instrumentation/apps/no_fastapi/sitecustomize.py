"""On PYTHONPATH, makes ``fastapi`` unimportable, as in an environment without it installed.

A None in sys.modules is what the import system answers for a missing package: ``import
fastapi`` raises ModuleNotFoundError and importlib.util.find_spec returns None.
"""

from __future__ import annotations

import sys

sys.modules["fastapi"] = None  # type: ignore[assignment]
