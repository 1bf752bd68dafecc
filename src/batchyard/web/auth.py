"""Console sign-in: needed only when the server listens beyond loopback.

On loopback the console is as open as the port (like the API with its default test/test
credentials). Bound elsewhere, a user signs in with one of the server's access key id and
secret pairs and gets a session cookie: ``<payload>.<signature>``, the payload holding the key
id and an expiry, signed with HMAC-SHA256 under a key derived from that key's secret. Nothing
is stored server-side, and changing a secret ends the sessions signed with it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass

COOKIE = "batchyard_console"
SESSION_SECONDS = 12 * 3600


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class Sessions:
    """Issues and checks session cookies for the server's credentials."""

    credentials: dict[str, str]  # access key id -> secret access key
    required: bool  # False on loopback: everyone is signed in
    lifetime_s: int = SESSION_SECONDS

    def _key(self, secret: str) -> bytes:
        return hmac.new(secret.encode(), b"batchyard console session v1", hashlib.sha256).digest()

    def check_credentials(self, key_id: str, secret: str) -> bool:
        expected = self.credentials.get(key_id)
        # compare_digest on both paths, so a wrong key id takes as long as a wrong secret.
        return hmac.compare_digest((expected or "\0").encode(), secret.encode()) and bool(expected)

    def issue(self, key_id: str, now: float | None = None) -> str:
        moment = time.time() if now is None else now
        payload = _b64(json.dumps({"k": key_id, "e": int(moment) + self.lifetime_s}).encode())
        signature = hmac.new(self._key(self.credentials[key_id]), payload.encode(), "sha256")
        return f"{payload}.{_b64(signature.digest())}"

    def user(self, cookie: str | None, now: float | None = None) -> str | None:
        """The access key id a valid, unexpired cookie was issued to, else None."""
        if not cookie or "." not in cookie:
            return None
        payload, _, signature = cookie.partition(".")
        try:
            claims = json.loads(_unb64(payload))
            key_id, expires = str(claims["k"]), int(claims["e"])
            given = _unb64(signature)
        except (ValueError, KeyError, TypeError):
            return None
        secret = self.credentials.get(key_id)
        if secret is None:
            return None
        expected = hmac.new(self._key(secret), payload.encode(), "sha256").digest()
        if not hmac.compare_digest(expected, given):
            return None
        if (time.time() if now is None else now) >= expires:
            return None
        return key_id
