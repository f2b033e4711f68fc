"""The collector's errors.

CollectorError
├── StoreError            the database refused or failed a statement (retriable)
├── DecodeError           the body is not OTLP in the declared encoding          -> 400
├── UnsupportedMediaType  a content type or content encoding we do not speak     -> 415
├── BodyTooLarge          the body, after decompression, exceeds max_body_bytes  -> 413
└── BufferFull            the write buffer is at its bound; try again later      -> 503
"""

from __future__ import annotations

from typing import ClassVar


class CollectorError(Exception):
    """Root of every error the collector raises on purpose."""

    retriable: ClassVar[bool] = False
    http_status: ClassVar[int] = 500


class StoreError(CollectorError):
    """A statement failed in the store."""

    retriable = True


class DecodeError(CollectorError):
    """The request body could not be decoded."""

    http_status = 400


class UnsupportedMediaType(CollectorError):
    """The content type or encoding is not one OTLP defines."""

    http_status = 415


class BodyTooLarge(CollectorError):
    """The (decompressed) body is larger than the configured limit."""

    http_status = 413


class BufferFull(CollectorError):
    """The write buffer is full; the client should retry later."""

    retriable = True
    http_status = 503
