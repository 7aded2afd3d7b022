"""The operator's dashboard as headless Chromium renders it: the page's DOM after its scripts ran (``--dump-dom``).

Shared by the dashboard tests (test_service_dashboard.py) and the disaster-mode dashboard test
(test_disaster_mode.py). The browser comes from the project-wide ``chromium`` fixture.
"""

from __future__ import annotations

import subprocess
from html.parser import HTMLParser
from pathlib import Path

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
)


class Dom(HTMLParser):
    """Elements by id / class, with their attributes and text."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[dict] = []
        self._stack: list[dict] = []

    def handle_starttag(self, tag, attrs):
        el = {
            "tag": tag,
            "attrs": dict(attrs),
            "text": "",
            "parents": [e["tag"] for e in self._stack],
            "ids": [e["attrs"].get("id") for e in self._stack],
        }
        self.elements.append(el)
        if tag not in ("meta", "input", "br", "img", "link"):
            self._stack.append(el)

    def handle_endtag(self, tag):
        while self._stack:
            if self._stack.pop()["tag"] == tag:
                break

    def handle_data(self, data):
        for el in self._stack:
            el["text"] += data

    def by_id(self, ident: str) -> dict:
        return next(e for e in self.elements if e["attrs"].get("id") == ident)

    def rows(self, table_id: str) -> list[dict]:
        return [e for e in self.elements if e["tag"] == "tr" and table_id in e["ids"] and "tbody" in e["parents"]]


def dashboard_url(base_url: str, key: str) -> str:
    """The dashboard of the town whose API key is ``key`` (the key travels in the URL fragment)."""
    return f"{base_url}/dashboard#key={key}"


def rendered(chromium: str, url: str, profile: Path, *, budget_ms: int = 15000) -> tuple[Dom, str]:
    """The DOM of ``url`` once its scripts ran ``budget_ms`` of virtual time, and Chromium's stderr.

    Asserts that Chromium exited cleanly.
    """
    out = subprocess.run(
        [
            chromium,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            f"--virtual-time-budget={budget_ms}",
            "--dump-dom",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    dom = Dom()
    dom.feed(out.stdout)
    return dom, out.stderr


def page_state(dom: Dom) -> str | None:
    """The page's ``data-state`` (``"ready"``, ``"login"``, ...)."""
    return next(e for e in dom.elements if e["tag"] == "body")["attrs"].get("data-state")


def dashboard_dom(chromium: str, base_url: str, key: str, profile: Path) -> Dom:
    """The town's dashboard once its scripts ran; asserts that the page loaded its data (``data-state`` ready)."""
    dom, stderr = rendered(chromium, dashboard_url(base_url, key), profile)
    assert page_state(dom) == "ready", (dom.by_id("error")["text"], stderr[-2000:])
    return dom
