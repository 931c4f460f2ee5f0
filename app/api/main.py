"""All API routers, collected under one router for app.main."""

from fastapi import APIRouter

from app.api.routes import (
    activation,
    conv,
    digits,
    export,
    health,
    images,
    network,
    pool,
    presets,
    rooms,
    stack,
    training,
)

api_router = APIRouter()
for module in (
    conv,
    pool,
    activation,
    images,
    presets,
    export,
    training,
    network,
    health,
    rooms,
    stack,
    digits,
):
    api_router.include_router(module.router)
