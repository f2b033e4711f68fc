"""Bearer tokens: the one check behind the OTLP receivers (CLEW_INGEST_TOKEN) and the UI.

Tokens are compared as SHA-256 digests with `hmac.compare_digest`, so the comparison takes
the same time whatever the offered token is, its length included.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import threading
import time

from pydantic import SecretStr

# The challenge of a 401 (RFC 6750); the realm names what the token opens.
CHALLENGE = 'Bearer realm="clew"'


def bearer(header: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header (scheme case-insensitive)."""
    if not header:
        return None
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def _digest(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()


class TokenCheck:
    """Whether a request may pass: always when no token is configured."""

    def __init__(self, token: SecretStr | str | None) -> None:
        secret = token.get_secret_value() if isinstance(token, SecretStr) else token
        self._expected = _digest(secret) if secret else None

    @property
    def enabled(self) -> bool:
        """True when a token is configured (requests without it are refused)."""
        return self._expected is not None

    def token_ok(self, token: str | None) -> bool:
        """Whether `token` is the configured one (constant time)."""
        if self._expected is None:
            return True
        # Always compare, even without a token, so a missing one costs what a wrong one does.
        return hmac.compare_digest(_digest(token or ""), self._expected) and bool(token)

    def header_ok(self, header: str | None) -> bool:
        """Whether an `Authorization` header carries the configured token."""
        return self.token_ok(bearer(header))

    def sign(self, message: str) -> str:
        """An HMAC of `message` keyed by the token: what a session cookie carries, not the token."""
        key = self._expected or b""
        return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()


class RefusalLog:
    """Logs refused requests at most once per `interval` seconds, with how many there were.

    A line per refusal would let anyone who reaches the port fill the log.
    """

    def __init__(self, logger: logging.Logger, what: str, interval: float = 10.0) -> None:
        self._logger, self._what, self._interval = logger, what, interval
        self._lock = threading.Lock()
        self._count, self._last = 0, -interval

    def refused(self, peer: str) -> None:
        """Count one refusal from `peer`; log the count when the interval has passed."""
        with self._lock:
            self._count += 1
            now = time.monotonic()
            if now - self._last < self._interval:
                return
            count, self._count, self._last = self._count, 0, now
        self._logger.warning(
            "refused %d request(s) without a valid %s token (last from %s)",
            count,
            self._what,
            peer,
            extra={"event": "unauthenticated", "refused": count, "peer": peer},
        )
