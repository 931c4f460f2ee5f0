"""HTML pages."""

from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from app.templating import templates

router = APIRouter(tags=["pages"], include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def index(request: Request, lang: Literal["en", "ru"] = "en") -> HTMLResponse:
    return templates.TemplateResponse(request, "index.html", {"lang": lang})
