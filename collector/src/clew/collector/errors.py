"""The collector's errors.

CollectorError
├── StoreError            the database refused or failed a statement (retriable)
├── DecodeError           the body is not OTLP in the declared encoding          -> 400
├── UnsupportedMediaType  a content type or content encoding we do not speak     -> 415
├── BodyTooLarge          the body, after decompression, exceeds max_body_bytes  -> 413
├── Unauthenticated       no bearer token, or a wrong one (CLEW_INGEST_TOKEN)    -> 401
└── BufferFull            the write buffer is at its bound; try again later      -> 503
    ├── ShuttingDown      the collector is draining and takes nothing new         -> 503
    └── BrokerUnavailable Kafka did not acknowledge the request                   -> 503

A bad TLS setting is clew.common.tls.TLSConfigError (shared with the UI).
"""

from __future__ import annotations

from typing import ClassVar


class CollectorError(Exception):
    """Root of every error the collector raises on purpose."""

    retriable: ClassVar[bool] = False
    http_status: ClassVar[int] = 500
    # The `reason` label of clew_refused_total / clew_refused_requests_total / clew_dropped_total.
    reason: ClassVar[str] = "internal"


class StoreError(CollectorError):
    """A statement failed in the store."""

    reason = "store_failed"
    retriable = True


class DecodeError(CollectorError):
    """The request body could not be decoded."""

    reason = "undecodable"
    http_status = 400


class UnsupportedMediaType(CollectorError):
    """The content type or encoding is not one OTLP defines."""

    reason = "unsupported_media_type"
    http_status = 415


class BodyTooLarge(CollectorError):
    """The (decompressed) body is larger than the configured limit."""

    reason = "body_too_large"
    http_status = 413


class BufferFull(CollectorError):
    """The write buffer is full; the client should retry later."""

    reason = "buffer_full"
    retriable = True
    http_status = 503


class ShuttingDown(BufferFull):
    """The collector is draining its buffer before it exits."""

    reason = "shutting_down"


class BrokerUnavailable(BufferFull):
    """Kafka did not acknowledge the request in time."""

    reason = "broker_unavailable"


class Unauthenticated(CollectorError):
    """The request carries no bearer token, or not the configured one."""

    reason = "unauthenticated"
    http_status = 401
