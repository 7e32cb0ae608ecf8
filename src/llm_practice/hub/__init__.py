"""Model downloads from Hugging Face (and mirrors), ModelScope and OpenXLab.

Resumable across processes, verified before a file reaches its final path, and registered in
the local model registry so `llmp chat REPO` finds it. See `download.py` for the entry point.
"""

from .download import DownloadRequest, DownloadResult, download_model, verify_model

__all__ = ["DownloadRequest", "DownloadResult", "download_model", "verify_model"]
