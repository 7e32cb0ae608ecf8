"""llm-practice: the practical LLM workflow, from download to alignment, on your own machine."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("llm-practice")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+local"
