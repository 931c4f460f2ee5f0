"""Kernels, glyphs and the lecture's worked examples."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from app import presets

router = APIRouter(prefix="/api", tags=["presets"])


@router.get("/presets")
def read_presets() -> dict[str, Any]:
    """Kernel presets, input glyphs and the lecture's worked examples with their numbers."""
    return presets.all_presets()
