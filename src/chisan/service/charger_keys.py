"""Authorization keys of charge points (OCPP security profiles 1 and 2) and charge point identities.

A charge point authenticates its websocket handshake with HTTP Basic authentication: the user name is its
identity, the password its authorization key (OCPP 1.6 security whitepaper ed. 3, section 2.3 "Security
Profile 1"; OCPP 2.0.1 part 2, A00.FR.203). The service makes the key (random, :data:`KEY_BYTES` bytes, 32
URL-safe characters, within 2.0.1's 16–40 characters of ``BasicAuthPassword``), shows it once and keeps only its
scrypt hash (RFC 7914) with a random salt. Identities of new chargers are random too (:func:`new_identity`), never
derived from names published in the open data.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

KEY_BYTES = 24
"""Random bytes of an authorization key (192 bit; 32 characters of URL-safe base64)."""

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
"""scrypt cost (RFC 7914 section 2): 16 MiB of memory and some 30–60 ms per check on this machine's cores."""

_SALT_BYTES = 16
_HASH_BYTES = 32


def new_key() -> str:
    """A new authorization key: 32 URL-safe characters (``A–Z a–z 0–9 - _``)."""
    return secrets.token_urlsafe(KEY_BYTES)


def new_identity() -> str:
    """A new charge point identity: ``CP-`` and 12 random upper-case hex digits (48 bit), e.g. ``CP-3F9A0C71B2E4``."""
    return "CP-" + secrets.token_hex(6).upper()


def _scrypt(key: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(key.encode(), salt=salt, n=n, r=r, p=p, maxmem=2 * 128 * r * n + 2**20, dklen=_HASH_BYTES)


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def hash_key(key: str) -> str:
    """The stored form of a key: ``scrypt$<n>$<r>$<p>$<salt base64>$<hash base64>``."""
    salt = secrets.token_bytes(_SALT_BYTES)
    digest = _scrypt(key, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


_DUMMY_HASH = hash_key(new_key())


def verify_key(key: str, stored: str | None) -> bool:
    """Whether ``key`` is the one ``stored`` was made from (constant time in the key).

    With no stored hash (unknown identity, no key set) a dummy hash is checked all the same, so that the answer
    takes as long as for a wrong key and reveals nothing.
    """
    target = stored or _DUMMY_HASH
    try:
        scheme, n, r, p, salt, digest = target.split("$")
        if scheme != "scrypt":
            return False
        computed = _scrypt(key, base64.b64decode(salt), int(n), int(r), int(p))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(computed, base64.b64decode(digest)) and stored is not None
