"""Authentication of charge points at the websocket handshake (OCPP security profiles 1 and 2).

The handshake carries ``Authorization: Basic base64(<identity>:<authorization key>)`` (RFC 7617; OCPP 1.6
security whitepaper section 2.3, OCPP 2.0.1 part 2 A00.FR.202–205). The user name must be the identity in the URL.
Every refusal for a bad or missing credential is the same 401, whether the identity exists or not; failures are
counted per identity and per client address, and beyond the limit the handshake is answered 429 without even
checking the credential.
"""

from __future__ import annotations

import base64
import binascii
import collections
import time
from collections.abc import Callable

WINDOW_S = 60.0
"""Length of the window failed authentications are counted in [s]."""

MAX_KEYS = 10_000
"""Keys tracked before the expired ones are swept (bounds the memory a flood of distinct identities can take)."""


def basic_credentials(header: str | None) -> tuple[str, str] | None:
    """User name and password of an HTTP Basic ``Authorization`` header (None when absent or malformed)."""
    if not header:
        return None
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "basic" or not value:
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, sep, password = decoded.partition(":")
    if not sep:
        return None
    return user, password


class FailureLimiter:
    """Failed authentications per key (an identity, an address) in a sliding window of :data:`WINDOW_S` seconds.

    Parameters
    ----------
    limit : int
        Failures allowed per key in the window; a key with that many is :meth:`blocked` until the oldest expires.
    clock : callable
        Monotonic time [s]; default :func:`time.monotonic`.
    """

    def __init__(self, limit: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.clock = clock
        self._failures: dict[str, collections.deque[float]] = {}

    def _recent(self, key: str) -> collections.deque[float]:
        now = self.clock()
        times = self._failures.get(key)
        if times is None:
            return collections.deque()
        while times and times[0] <= now - WINDOW_S:
            times.popleft()
        if not times:
            del self._failures[key]
        return times

    def blocked(self, *keys: str) -> bool:
        """Whether any of ``keys`` has reached the limit in the window."""
        return any(len(self._recent(k)) >= self.limit for k in keys)

    def fail(self, *keys: str) -> None:
        """Count one failure against each of ``keys``."""
        now = self.clock()
        if len(self._failures) > MAX_KEYS:  # many distinct keys (identities, addresses): drop the expired ones
            for k in list(self._failures):
                self._recent(k)
        for k in keys:
            self._recent(k)
            self._failures.setdefault(k, collections.deque()).append(now)
