"""TLS for the receivers and the UI: the certificate and key files from the settings."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from clew.common.settings import SharedSettings


class TLSConfigError(ValueError):
    """The TLS settings are incomplete or name files that do not exist (a bad setting)."""

    reason = "tls_config"


@dataclass(frozen=True)
class ServerTLS:
    """A PEM certificate chain and its private key."""

    cert_file: Path
    key_file: Path

    def pair(self) -> tuple[bytes, bytes]:
        """(key, chain) bytes, the order grpc.ssl_server_credentials takes them in."""
        return self.key_file.read_bytes(), self.cert_file.read_bytes()


def server_tls(settings: SharedSettings) -> ServerTLS | None:
    """The configured certificate and key, None for plain text; both or neither must be set."""
    cert, key = settings.tls_cert_file, settings.tls_key_file
    if cert is None and key is None:
        return None
    if cert is None or key is None:
        raise TLSConfigError("set both CLEW_TLS_CERT_FILE and CLEW_TLS_KEY_FILE, or neither")
    for path in (cert, key):
        if not path.is_file():
            raise TLSConfigError(f"TLS file {str(path)!r} does not exist or is not a file")
    return ServerTLS(cert, key)
