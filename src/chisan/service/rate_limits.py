"""Rate limits of the REST API: per API key and per client address (the ``limits`` library, moving windows).

Every HTTP request counts against its client address; a request to ``/api/v1`` with an ``X-API-Key`` header also
counts against that key (the key's SHA-256, so no secret is kept in the counts). The public routes (``/health``,
``/gbfs``, the pages) are limited per address only. A request over a limit is answered 429 with ``Retry-After``
[s] and a JSON body naming the limit, before any other work is done for it.

The counts are a moving window of one second (at most N requests in any second, not "N per calendar second",
which would let 2 N through around a second's boundary). With the default ``memory://`` storage each process
counts for itself (see :class:`~chisan.service.core.config.Settings`).
"""

from __future__ import annotations

import hashlib
import json
import math
import time

from fastapi import FastAPI
from limits import RateLimitItemPerSecond
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter
from pydantic import BaseModel
from starlette.types import ASGIApp, Receive, Scope, Send

from chisan.service.core.config import Settings

API_PREFIX = "/api/v1/"
KEY_HEADER = b"x-api-key"


class RateLimited(BaseModel):
    """Body of a 429: the limit that was hit (``loc`` names the key header or the client address)."""

    detail: list[dict]
    message: str


class RateLimitMiddleware:
    """ASGI middleware counting requests per client address and per API key (see the module docstring)."""

    def __init__(self, app: ASGIApp, *, settings: Settings) -> None:
        self.app = app
        self.limiter = MovingWindowRateLimiter(storage_from_string(settings.rate_limit_storage_uri))
        self.per_key = (
            RateLimitItemPerSecond(settings.rate_limit_per_key_per_s) if settings.rate_limit_per_key_per_s else None
        )
        self.per_address = (
            RateLimitItemPerSecond(settings.rate_limit_per_address_per_s)
            if settings.rate_limit_per_address_per_s
            else None
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.per_address is not None:
            client = scope.get("client")
            address = client[0] if client else "unknown"
            if not self.limiter.hit(self.per_address, "address", address):
                await self._refuse(send, self.per_address, ("address", address), ["client", "address"], "address")
                return
        if self.per_key is not None and scope["path"].startswith(API_PREFIX):
            key = next((value for name, value in scope["headers"] if name == KEY_HEADER), None)
            if key:
                key_id = hashlib.sha256(key).hexdigest()
                if not self.limiter.hit(self.per_key, "key", key_id):
                    await self._refuse(send, self.per_key, ("key", key_id), ["header", "X-API-Key"], "API key")
                    return
        await self.app(scope, receive, send)

    async def _refuse(self, send: Send, item, identifiers: tuple[str, ...], loc: list[str], what: str) -> None:
        stats = self.limiter.get_window_stats(item, *identifiers)
        retry_after_s = max(1, math.ceil(stats.reset_time - time.time()))
        message = f"rate limit of {item.amount} requests per second per {what} exceeded; retry after {retry_after_s} s"
        body = json.dumps({"detail": [{"loc": loc, "msg": message, "type": "rate_limited"}], "message": message})
        await send(
            {
                "type": "http.response.start",
                "status": 429,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"retry-after", str(retry_after_s).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body.encode()})


def document_429(app: FastAPI) -> None:
    """Add the 429 answer (body and ``Retry-After``) to every operation of the app's OpenAPI."""
    build = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = build()
        schemas = schema.setdefault("components", {}).setdefault("schemas", {})
        schemas["RateLimited"] = RateLimited.model_json_schema(ref_template="#/components/schemas/{model}")
        answer = {
            "description": "Too many requests from this client address or with this API key.",
            "headers": {
                "Retry-After": {"description": "Seconds to wait [s].", "schema": {"type": "integer", "minimum": 1}}
            },
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/RateLimited"}}},
        }
        for path_item in schema.get("paths", {}).values():
            for operation in path_item.values():
                if isinstance(operation, dict) and "responses" in operation:
                    operation["responses"].setdefault("429", answer)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi


def install_rate_limits(app: FastAPI, settings: Settings) -> None:
    """The limits of ``settings`` on ``app`` (none when both are 0), and the 429 in its OpenAPI."""
    if settings.rate_limit_per_key_per_s or settings.rate_limit_per_address_per_s:
        app.add_middleware(RateLimitMiddleware, settings=settings)
    document_429(app)
