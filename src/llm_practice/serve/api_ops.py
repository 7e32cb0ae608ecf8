"""Routes for operators: `/health` and Prometheus `/metrics` (no key needed)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

router = APIRouter()


@router.get("/health")
async def health(request: Request):
    return {"status": "ok", "models": list(request.app.state.served)}


@router.get("/metrics")
async def metrics(request: Request):
    metrics = request.app.state.metrics
    return Response(metrics.render(), media_type=metrics.content_type)
