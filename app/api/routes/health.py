"""Liveness for load balancers and the container's health check."""

from fastapi import APIRouter

router = APIRouter(tags=["health"])


# async: a plain def would cost every probe a trip through the thread pool.
@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """Always `{"status": "ok"}` while the process serves requests."""
    return {"status": "ok"}
