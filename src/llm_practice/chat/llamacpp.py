"""Helpers shared by the llama.cpp code (the engine itself is `llamacpp_batch.py`).

llama.cpp prints its load log straight to file descriptor 2, below Python; `quiet_stderr` keeps
the terminal clean while a model loads or a GGUF is re-encoded.
"""

from __future__ import annotations

import contextlib
import os


@contextlib.contextmanager
def quiet_stderr():
    """Send fd 2 to /dev/null for the duration (llama.cpp's C code writes there directly)."""
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    with open(os.devnull, "w") as devnull:
        os.dup2(devnull.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
