"""What a logs search asks for, parsed from query-string arguments; bad input is a 422."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from clew.query_ui.errors import InvalidParameterError
from clew.query_ui.read import queries as q
from clew.query_ui.search import MAX_TAGS, bounded, choice, parse_range, parse_tag

# OpenTelemetry's severity ranges: each name is the lowest number of its range.
SEVERITIES = {"TRACE": 1, "DEBUG": 5, "INFO": 9, "WARN": 13, "ERROR": 17, "FATAL": 21}
ALIASES = {"WARNING": "WARN", "CRITICAL": "FATAL", "ERR": "ERROR", "INFORMATION": "INFO"}
MAX_TEXT = 1000
MAX_TERMS = 16
DEFAULT_LIMIT = 50
_TERM = re.compile(r'(-?)"([^"]*)"|(-?)(\S+)')
# The index's tokenizer (splitByNonAlpha): a token is a run of ASCII letters and digits or of
# non-ASCII characters; everything else separates tokens.
_SEPARATOR = re.compile(r"[\x00-\x2f\x3a-\x40\x5b-\x60\x7b-\x7f]+")
_TRACE_ID = re.compile(r"^[0-9a-f]{32}$")


def tokens(text: str) -> list[str]:
    """The index's tokens of `text`, lower-cased as the index stores them."""
    return [t for t in _SEPARATOR.split(text.lower()) if t]


@dataclass
class Text:
    """Free text: words (whole tokens), quoted phrases (as written), `-word` to exclude."""

    words: list[str] = field(default_factory=list)
    phrases: list[str] = field(default_factory=list)
    excluded: list[str] = field(default_factory=list)
    excluded_phrases: list[str] = field(default_factory=list)

    @property
    def required(self) -> list[str]:
        """Every token a matching body has: the words and the phrases' tokens."""
        found = [*self.words, *(t for p in self.phrases for t in tokens(p))]
        return list(dict.fromkeys(found))

    @property
    def highlights(self) -> list[str]:
        """What to mark in a matching body."""
        return [*self.phrases, *self.words]


def parse_text(text: str) -> Text:
    """Words, "quoted phrases" and -excluded terms, case-insensitive. A term of one token is a
    word (a whole token); a longer one (`ord-42`, "deadlock detected") is a phrase, found as
    written."""
    if len(text) > MAX_TEXT:
        raise InvalidParameterError("text", f"at most {MAX_TEXT} characters")
    parsed = Text()
    for minus_quoted, quoted, minus, word in _TERM.findall(text):
        raw, exclude = (quoted or word).strip().lower(), bool(minus_quoted or minus)
        found = tokens(raw)
        if len(found) == 1:
            (parsed.excluded if exclude else parsed.words).append(found[0])
        elif found:
            (parsed.excluded_phrases if exclude else parsed.phrases).append(raw)
    terms = len(parsed.required) + len(parsed.excluded) + len(parsed.excluded_phrases)
    if terms > MAX_TERMS:
        raise InvalidParameterError("text", f"at most {MAX_TERMS} words")
    parsed.words = list(dict.fromkeys(parsed.words))
    return parsed


def parse_severity(text: str) -> int:
    """A severity name (TRACE..FATAL, WARNING, ...) or number (0-24) as a number."""
    value = text.strip().upper()
    if value.isascii() and value.isdigit() and int(value) <= 24:
        return int(value)
    name = ALIASES.get(value, value)
    if name not in SEVERITIES:
        names = ", ".join(SEVERITIES)
        raise InvalidParameterError("severity", f"{text!r} is not one of {names} or 0-24")
    return SEVERITIES[name]


@dataclass
class LogFilters:
    """A logs search; every field a user value bound as a typed parameter."""

    start_ns: int
    end_ns: int
    service: str = ""
    tags: list[tuple[str, str]] = field(default_factory=list)
    key: str = "order.id"
    key_value: str = ""
    text: Text = field(default_factory=Text)
    severity: int = 0
    trace_id: str = ""
    has_trace: str = "any"
    limit: int = DEFAULT_LIMIT

    def parameters(self) -> dict[str, Any]:
        """The typed parameters every logs query takes."""
        return {
            "start_ns": self.start_ns,
            "end_ns": self.end_ns,
            "service": self.service,
            "tag_keys": [k for k, _ in self.tags],
            "tag_values": [v for _, v in self.tags],
            "key": self.key,
            "key_value": self.key_value,
            "words": self.text.required,
            "phrases": self.text.phrases,
            "excluded": self.text.excluded,
            "excluded_phrases": self.text.excluded_phrases,
            "severity": self.severity,
            "trace_id": self.trace_id,
            "has_trace": self.has_trace,
        }


def build(args: dict[str, Any], business_keys: list[str]) -> LogFilters:
    """LogFilters from the query string's arguments (`tag` may repeat)."""

    def text(name: str, default: str = "") -> str:
        return str(args.get(name) or default).strip()

    start, end = parse_range(args)
    filters = LogFilters(start_ns=start, end_ns=end, service=text("service"))
    filters.tags = [parse_tag(t) for t in args.get("tag", []) if str(t).strip()]
    if len(filters.tags) > MAX_TAGS:
        raise InvalidParameterError("tag", f"at most {MAX_TAGS} attribute filters")
    filters.key = choice(text("key", business_keys[0]), tuple(business_keys), "key")
    filters.key_value = text("key_value")
    filters.text = parse_text(text("text"))
    filters.severity = parse_severity(text("severity")) if text("severity") else 0
    filters.trace_id = text("trace_id").lower()
    if filters.trace_id and not _TRACE_ID.match(filters.trace_id):
        raise InvalidParameterError("trace_id", "a trace id is 32 hexadecimal characters")
    filters.has_trace = choice(text("has_trace", "any"), ("any", "yes", "no"), "has_trace")
    filters.limit = bounded(text("limit", str(DEFAULT_LIMIT)), 1, q.MAX_PAGE, "limit")
    return filters
