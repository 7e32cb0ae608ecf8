"""`AppContext`: what the routers and the web UI tabs share, kept on `app.state`.

A router reads it from `request.app.state` (`.config`, `.served`, `.generation`, `.metrics`, or
all of them as `.ctx`); a tab builder receives it: `build(gr, ctx) -> labels`.
"""

from __future__ import annotations

from dataclasses import dataclass

from .config import ServeConfig
from .generation import GenerationService, Served
from .metrics import Metrics


@dataclass
class AppContext:
    config: ServeConfig
    served: dict[str, Served]
    generation: GenerationService
    metrics: Metrics

    def publish(self, state) -> None:
        """Put every shared object on `app.state`."""
        state.ctx = self
        state.config, state.served = self.config, self.served
        state.generation, state.metrics = self.generation, self.metrics
