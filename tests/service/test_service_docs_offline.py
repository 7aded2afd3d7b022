"""``/docs`` (Swagger UI) and ``/redoc`` render every operation of the API in headless Chromium with no network.

Chromium resolves no host but 127.0.0.1 (``--host-resolver-rules``), so a page that needs a CDN stays blank: the
control case is FastAPI's default docs page, which loads Swagger UI from a CDN and renders no operation.
Swagger UI gives each operation an element ``id="operations-<tag>-<operationId>"``, ReDoc a
``data-section-id="operation/<operationId>"``; both sets must equal the operation ids of ``/openapi.json``.
"""

from __future__ import annotations

import re
import subprocess

import httpx
from fastapi import FastAPI
from service_helpers import NOW, settings_for
from test_service_dashboard import CHROMIUM_FLAGS

from chisan.service.main import create_app
from chisan.service.testing import ServerThread

OFFLINE = "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"
"""Every host name but the loopback address fails to resolve: no CDN, no fonts, nothing from outside."""


def _dom(chromium: str, profile, url: str) -> str:
    out = subprocess.run(
        [
            chromium,
            *CHROMIUM_FLAGS,
            OFFLINE,
            f"--user-data-dir={profile}",
            "--virtual-time-budget=15000",
            "--dump-dom",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout


def _operation_ids(openapi: dict) -> set[str]:
    return {op["operationId"] for item in openapi["paths"].values() for op in item.values() if "operationId" in op}


def test_docs_and_redoc_render_every_operation_offline(tmp_path, chromium):
    app = create_app(
        settings_for(f"sqlite:///{tmp_path / 'c.db'}"), clock=lambda: NOW, start_ocpp=False, start_scheduler=False
    )
    with ServerThread(app) as server:
        openapi = httpx.get(f"{server.base_url}/openapi.json").json()
        swagger = _dom(chromium, tmp_path / "p1", f"{server.base_url}/docs")
        redoc = _dom(chromium, tmp_path / "p2", f"{server.base_url}/redoc")
        page = httpx.get(f"{server.base_url}/docs").text
        assets = [
            httpx.get(f"{server.base_url}{src}") for src in re.findall(r'(?:src|href)="(/docs-assets/[^"]+)"', page)
        ]
    expected = _operation_ids(openapi)
    assert len(expected) > 40  # every operation of the API, not a handful
    assert "http" not in "".join(re.findall(r'(?:src|href)="([^"]+)"', page))  # no asset from outside
    assert len(assets) == 3 and all(r.status_code == 200 and len(r.content) > 1000 for r in assets)
    rendered = set(re.findall(r'id="operations-(?!tag-)[^-"]+-([^"]+)"', swagger))
    assert rendered == expected
    assert set(re.findall(r'data-section-id="operation/([^"]+)"', redoc)) == expected


def test_a_cdn_docs_page_stays_blank_offline(tmp_path, chromium):
    """The control: FastAPI's default /docs (Swagger UI from a CDN) renders no operation under the same rules."""
    app = FastAPI()

    @app.get("/ping")
    def ping() -> dict:
        return {"ok": True}

    with ServerThread(app) as server:
        dom = _dom(chromium, tmp_path / "p", f"{server.base_url}/docs")
    assert "cdn.jsdelivr.net" in dom
    assert re.findall(r'id="operations-[^"]+"', dom) == []
