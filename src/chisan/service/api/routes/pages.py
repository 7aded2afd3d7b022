"""The operator's dashboard page (static HTML and JavaScript; its data comes from GET /api/v1/dashboard)."""

from __future__ import annotations

from importlib import resources

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

router = APIRouter(tags=["pages"])


@router.get("/dashboard", response_class=HTMLResponse, include_in_schema=False)
def dashboard_page() -> HTMLResponse:
    """The page; it asks for an API key (kept in the browser) or reads it from the URL fragment ``#key=…``."""
    html = resources.files("chisan.service").joinpath("static", "dashboard.html").read_text(encoding="utf-8")
    return HTMLResponse(html)


@router.get("/health", tags=["health"])
def health() -> dict:
    return {"status": "ok"}
