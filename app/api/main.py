"""All API routers, collected under one router for app.main."""

from fastapi import APIRouter

from app.api.routes import activation, conv, health, images, pool, presets

api_router = APIRouter()
for module in (conv, pool, activation, images, presets, health):
    api_router.include_router(module.router)
