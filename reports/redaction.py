"""Secrets out of every output: known secret values and secret-shaped text become [REDACTED].

Two nets: the literal values we know are secret (variables named like secrets, the
credentials in use, anything a plugin registers), and patterns for what a secret looks
like when we did not know it (AWS keys, tokens, passwords in URLs or key=value pairs).
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import os
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, final

MASK = "[REDACTED]"
_MIN_SECRET_LEN = 6
_SECRET_NAME = re.compile(
    r"secret|token|passw|pwd|credential|private[_-]?key|api[_-]?key|access[_-]?key|"
    r"auth|webhook|signature|cookie|session",
    re.IGNORECASE,
)
# Keys of JSON data whose string values are dropped whole.
_SECRET_KEY = re.compile(
    r"secret|token|passw(?:or)?d$|pwd|api[_-]?key|access[_-]?key|private[_-]?key|credential",
    re.IGNORECASE,
)
_HARMLESS_VALUES = {"true", "false", "none", "null", "yes", "no", "local"}
# Names that look like secrets but are not: the working directory (PWD), session plumbing.
_HARMLESS_NAME = re.compile(
    r"^(?:OLD)?PWD$|^XAUTHORITY$|^SSH_AUTH_SOCK$|^DBUS_SESSION_BUS_ADDRESS$|^XDG_SESSION_",
)

# Each pattern with a test that holds for every text the pattern can match anywhere in:
# when the test fails the pattern cannot match, so skipping it changes nothing. The tests
# see the text and, when the text is ASCII, its lower-case form (None otherwise: a
# case-insensitive pattern also matches some non-ASCII letters, e.g. the long s, U+017F, for "s", so
# those texts go through every case-insensitive pattern).
_Gate = Callable[[str, str | None], bool]
_RUN_40 = re.compile(r"[A-Za-z0-9/+]{40}")
_KEY_MARKERS = ("secret", "token", "passwd", "password", "pwd", "key", "credential", "signature")


def _any_case(*markers: str) -> _Gate:
    def gate(text: str, lower: str | None) -> bool:
        return lower is None or any(marker in lower for marker in markers)

    return gate


def _has_key_value(text: str, lower: str | None) -> bool:
    return ("=" in text or ":" in text) and _any_case(*_KEY_MARKERS)(text, lower)


_PATTERNS: tuple[tuple[re.Pattern[str], str, _Gate], ...] = (
    # Access key ids (long-term and temporary).
    (
        re.compile(r"\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\b"),
        MASK,
        lambda text, _: any(prefix in text for prefix in ("AKIA", "ASIA", "ABIA", "ACCA")),
    ),
    # Credentials inside URLs: scheme://user:password@host
    (
        re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)[^/\s:@]+:[^/\s@]+@"),
        r"\g<scheme>" + MASK + "@",
        lambda text, _: "://" in text and "@" in text,
    ),
    # PEM private keys.
    (
        re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----", re.S),
        MASK,
        lambda text, _: "PRIVATE KEY-----" in text,
    ),
    # Bearer / Basic authorisation values.
    (
        re.compile(r"(?i)\b(Bearer|Basic)\s+[A-Za-z0-9\-._~+/]{8,}=*"),
        r"\1 " + MASK,
        _any_case("bearer", "basic"),
    ),
    # Slack-style incoming webhook paths.
    (
        re.compile(r"(hooks\.slack\.com/services/)[A-Za-z0-9/_-]+"),
        r"\1" + MASK,
        lambda text, _: "hooks.slack.com/services/" in text,
    ),
    # key = value, key: value, "key": "value", key=value&... for secret-like keys. A
    # match can only start where a run of [\w.-] starts (an earlier start in the run
    # would match too), so the look-behind changes no match, and spares scanning every
    # position inside long words.
    (
        re.compile(
            r"(?i)(?<![\w.-])(?P<key>[\w.-]*(?:secret|token|passw(?:or)?d|pwd|api[_-]?key|access[_-]?key|"
            r"private[_-]?key|credential|signature)[\w.-]*)"
            r"(?P<sep>[\"']?\s*(?:=|:)\s*[\"']?)(?!\[REDACTED\])(?P<value>[^\s\"',;&<>)}\]]{4,})"
        ),
        r"\g<key>\g<sep>" + MASK,
        _has_key_value,
    ),
    # A bare 40-character AWS secret access key next to its access key id is caught above;
    # a lone one is caught by its shape when it has both cases, a digit and a slash or plus.
    (
        re.compile(
            r"(?<![A-Za-z0-9/+=])(?=[A-Za-z0-9/+]*[/+])(?=[A-Za-z0-9/+]*[0-9])"
            r"(?=[A-Za-z0-9/+]*[a-z])(?=[A-Za-z0-9/+]*[A-Z])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])"
        ),
        MASK,
        lambda text, _: ("/" in text or "+" in text) and _RUN_40.search(text) is not None,
    ),
)
# Scrubbed texts remembered per redactor (failure reports repeat the same lines): texts
# up to this length, up to this many characters in all, then the memory starts again.
_MEMO_TEXT_MAX = 20_000
_MEMO_CHARS_MAX = 8_000_000


def secret_values_from_environment(environ: Mapping[str, str] | None = None) -> list[str]:
    """Values of environment variables whose names say they hold a secret."""
    env = os.environ if environ is None else environ
    values = []
    for name, value in env.items():
        if is_secret_name(name) and _worth_masking(value):
            values.append(value)
        values.extend(url_passwords(value))
    return values


_URL_PASSWORD = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*://[^/\s:@]+:(?P<password>[^/\s@]+)@")


def url_passwords(text: str) -> list[str]:
    """Passwords inside URLs (`scheme://user:password@host`), to mask wherever they
    show up later, in a URL or alone."""
    return [m.group("password") for m in _URL_PASSWORD.finditer(text)]


def secret_values_in(obj: Any) -> list[str]:
    """Passwords of URLs anywhere in a JSON-like structure (a target description)."""
    if isinstance(obj, str):
        return url_passwords(obj)
    if isinstance(obj, Mapping):
        return [v for value in obj.values() for v in secret_values_in(value)]
    if isinstance(obj, list | tuple):
        return [v for value in obj for v in secret_values_in(value)]
    return []


def is_secret_name(name: str) -> bool:
    return bool(_SECRET_NAME.search(name)) and not _HARMLESS_NAME.search(name)


def _worth_masking(value: str) -> bool:
    value = value.strip()
    return len(value) >= _MIN_SECRET_LEN and value.lower() not in _HARMLESS_VALUES


@final
class Redactor:
    """Scrubs text and JSON-like data; cheap to call on every report."""

    __slots__ = ("_literal", "_memo", "_memo_chars", "_values")

    def __init__(self, secret_values: Iterable[str] = ()) -> None:
        values = {v.strip() for v in secret_values if isinstance(v, str) and _worth_masking(v)}
        # Longest first, so a secret that contains another is masked whole.
        self._values = tuple(sorted(values, key=len, reverse=True))
        self._literal = (
            re.compile("|".join(re.escape(v) for v in self._values)) if self._values else None
        )
        self._memo: dict[str, str] = {}
        self._memo_chars = 0

    def add(self, values: Iterable[str]) -> Redactor:
        """A redactor that also masks these values."""
        return Redactor([*self._values, *values])

    def scrub(self, text: str) -> str:
        if not text:
            return text
        known = self._memo.get(text)
        if known is not None:
            return known
        cleaned = self._scrub(text)
        if len(text) <= _MEMO_TEXT_MAX:
            if self._memo_chars + len(text) > _MEMO_CHARS_MAX:
                self._memo.clear()
                self._memo_chars = 0
            self._memo[text] = cleaned
            self._memo_chars += len(text) + len(cleaned)
        return cleaned

    def _scrub(self, text: str) -> str:
        if self._literal is not None and any(value in text for value in self._values):
            text = self._literal.sub(MASK, text)
        lower = text.lower() if text.isascii() else None
        for pattern, replacement, may_match in _PATTERNS:
            if may_match(text, lower):
                text, count = pattern.subn(replacement, text)
                if count:
                    lower = text.lower() if text.isascii() else None
        return text

    def scrub_obj(self, obj: Any) -> Any:
        """Scrub every string in a JSON-like structure; values of secret-named keys go whole."""
        if isinstance(obj, str):
            return self.scrub(obj)
        if isinstance(obj, Mapping):
            out: dict[Any, Any] = {}
            for key, value in obj.items():
                if isinstance(key, str) and _SECRET_KEY.search(key) and isinstance(value, str):
                    out[key] = MASK
                else:
                    out[key] = self.scrub_obj(value)
            return out
        if isinstance(obj, list | tuple):
            return [self.scrub_obj(item) for item in obj]
        return obj


def scrub_in_place(obj: Any, scrub: Callable[[str], str], depth: int = 0) -> Any:
    """Scrub every string inside a tree of dataclasses, lists and tuples (pytest's
    failure representations), keeping its structure so pytest can still render it."""
    if depth > 12:
        return obj
    if isinstance(obj, str):
        return scrub(obj)
    if isinstance(obj, list):
        obj[:] = [scrub_in_place(item, scrub, depth + 1) for item in obj]
        return obj
    if isinstance(obj, tuple):
        return tuple(scrub_in_place(item, scrub, depth + 1) for item in obj)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        for field in dataclasses.fields(obj):
            value = getattr(obj, field.name)
            cleaned = scrub_in_place(value, scrub, depth + 1)
            if cleaned is not value:
                object.__setattr__(obj, field.name, cleaned)
    return obj


def scrub_extra(extra: dict[str, Any], redactor: Redactor) -> None:
    """Scrub one pytest-html extra in place: text, HTML, URLs and JSON as they are, SVG
    images through their base64 form; other binary media cannot hold text we know."""
    kind = extra.get("format_type")
    content = extra.get("content")
    if kind in ("text", "html", "url") and isinstance(content, str):
        extra["content"] = redactor.scrub(content)
    elif kind == "json":
        extra["content"] = redactor.scrub_obj(content)
    elif kind == "image" and extra.get("mime_type") == "image/svg+xml" and isinstance(content, str):
        try:
            text = base64.b64decode(content.encode(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            extra["content"] = redactor.scrub(content)
        else:
            extra["content"] = base64.b64encode(redactor.scrub(text).encode()).decode()
