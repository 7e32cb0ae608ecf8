"""Kept for scripts that import `_report`: the same functions now live in benchmarks/machine.py,
which also puts the machine header (CPU, llama.cpp variant, versions, date) above each section."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import DOC, table, write_section  # noqa: E402,F401
