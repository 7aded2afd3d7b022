"""The operator's dashboard page, the API documentation (Swagger UI and ReDoc) and the health check.

The documentation pages load their scripts and styles from the service itself, never from a CDN, so ``/docs``
and ``/redoc`` work on a network without internet. The assets are those the ``fastapi-offline`` package ships
(MIT; it bundles swagger-ui-dist, Apache-2.0, and ReDoc's standalone bundle, MIT).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import fastapi_offline
from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse

router = APIRouter(tags=["pages"])

DOCS_ASSETS = Path(fastapi_offline.__file__).parent / "static"
"""Folder of ``swagger-ui-bundle.js``, ``swagger-ui.css``, ``redoc.standalone.js`` and ``favicon.png``."""

DOCS_ASSETS_URL = "/docs-assets"
"""Where the app mounts :data:`DOCS_ASSETS`."""


@router.get("/dashboard", response_class=HTMLResponse, include_in_schema=False)
def dashboard_page() -> HTMLResponse:
    """The page; it asks for an API key (kept in the browser) or reads it from the URL fragment ``#key=…``."""
    html = resources.files("chisan.service").joinpath("static", "dashboard.html").read_text(encoding="utf-8")
    return HTMLResponse(html)


def swagger_ui(request: Request) -> HTMLResponse:
    """Swagger UI of the OpenAPI document, with its assets served by the service."""
    root = request.scope.get("root_path", "")
    return get_swagger_ui_html(
        openapi_url=f"{root}{request.app.openapi_url}",
        title=f"{request.app.title} - Swagger UI",
        swagger_js_url=f"{root}{DOCS_ASSETS_URL}/swagger-ui-bundle.js",
        swagger_css_url=f"{root}{DOCS_ASSETS_URL}/swagger-ui.css",
        swagger_favicon_url=f"{root}{DOCS_ASSETS_URL}/favicon.png",
    )


def redoc(request: Request) -> HTMLResponse:
    """ReDoc of the OpenAPI document, with its script served by the service (and no web fonts)."""
    root = request.scope.get("root_path", "")
    return get_redoc_html(
        openapi_url=f"{root}{request.app.openapi_url}",
        title=f"{request.app.title} - ReDoc",
        redoc_js_url=f"{root}{DOCS_ASSETS_URL}/redoc.standalone.js",
        redoc_favicon_url=f"{root}{DOCS_ASSETS_URL}/favicon.png",
        with_google_fonts=False,
    )


# plain routes (like FastAPI's own docs pages): pages of the service, not operations of its API
router.add_route("/docs", swagger_ui, methods=["GET"], include_in_schema=False)
router.add_route("/redoc", redoc, methods=["GET"], include_in_schema=False)


@router.get("/health", tags=["health"])
def health() -> dict:
    return {"status": "ok"}
