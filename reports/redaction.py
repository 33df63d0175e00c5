"""Secrets out of every output: known secret values and secret-shaped text become [REDACTED].

Two nets: the literal values we know are secret (variables named like secrets, the
credentials in use, anything a plugin registers), and patterns for what a secret looks
like when we did not know it (AWS secret access keys, tokens, passwords in URLs, in
key=value pairs and in sentences such as "the password is ...").

The patterns leave alone what a reader needs to act: ARNs (no pattern looks inside
one), access key ids (AKIA..., ASIA...: they name a key, they do not open it), resource
names, UUIDs, hex digests, timestamps, numbers and booleans. Known secret values are
masked everywhere, ARNs included (the credentials in use, their key id among them).
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, final

import pytest

MASK = "[REDACTED]"
# What the terminal shows instead of a text the redaction failed on.
WITHHELD = "[output withheld: it could not be checked for secrets]"
_MIN_SECRET_LEN = 6
_SECRET_NAME = re.compile(
    r"secret|token|passw|pwd|credential|private[_-]?key|api[_-]?key|access[_-]?key|"
    r"auth|webhook|signature|cookie|session",
    re.IGNORECASE,
)
# Keys of JSON data whose string values are dropped whole (unless the value is an
# identifier by its shape, see _IDENTIFIER).
_SECRET_KEY = re.compile(
    r"secret|token|passw(?:or)?d$|pwd|api[_-]?key|access[_-]?key|private[_-]?key|credential",
    re.IGNORECASE,
)
_HARMLESS_VALUES = {"true", "false", "none", "null", "yes", "no", "local"}
# Names that look like secrets but are not: the working directory (PWD), session plumbing.
_HARMLESS_NAME = re.compile(
    r"^(?:OLD)?PWD$|^XAUTHORITY$|^SSH_AUTH_SOCK$|^DBUS_SESSION_BUS_ADDRESS$|^XDG_SESSION_",
)
# ARNs: the patterns never look inside one (a Secrets Manager ARN ends in
# `:secret:NAME`, which is not a key and its value).
_ARN = re.compile(r"\barn:aws[\w-]*:[\w-]*:[\w-]*:[\w-]*:[^\s\"'`<>,;(){}\[\]]+")
_ACCESS_KEY_ID = r"(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}"
# Whole values that are identifiers, never secrets, even under a secret-named key
# (`AccessKeyId`, `SecretArn`, `PasswordLastUsed`); an empty value hides nothing either.
_IDENTIFIER = re.compile(
    r"arn:aws[\w-]*:[\w-]*:[\w-]*:[\w-]*:\S+|" + _ACCESS_KEY_ID + r"|"
    r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?|"
    r"(?i:true|false)|"
)

# Each pattern with a test that holds for every text the pattern can match anywhere in:
# when the test fails the pattern cannot match, so skipping it changes nothing. The tests
# see the text and, when the text is ASCII, its lower-case form (None otherwise: a
# case-insensitive pattern also matches some non-ASCII letters, e.g. the long s, U+017F, for "s", so
# those texts go through every case-insensitive pattern).
_Gate = Callable[[str, str | None], bool]
_Replacement = str | Callable[[re.Match[str]], str]
_RUN_40 = re.compile(r"[A-Za-z0-9/+]{40}")
_KEY_MARKERS = ("secret", "token", "passwd", "password", "pwd", "key", "credential", "signature")
_PHRASE_MARKERS = ("passw", "passphrase", "pwd", "secret", "token", "api", "private", "credential")


def _any_case(*markers: str) -> _Gate:
    found = re.compile("|".join(re.escape(marker) for marker in markers)).search

    def gate(text: str, lower: str | None) -> bool:
        return lower is None or found(lower) is not None

    return gate


_has_key_marker = _any_case(*_KEY_MARKERS)


def _has_key_value(text: str, lower: str | None) -> bool:
    return ("=" in text or ":" in text) and _has_key_marker(text, lower)


def _may_hold_secret_key(text: str, lower: str | None) -> bool:
    # Both cases are needed: a text with none of one case (a hex digest) cannot match.
    return (
        len(text) >= 40
        and not text.islower()
        and not text.isupper()
        and _RUN_40.search(text) is not None
    )


# An IAM action of a service whose name looks like a secret's key
# (`secretsmanager:ListSecrets` in a policy or the call ledger) is a name, not a value.
_NOT_AN_ACTION = r"(?!(?-i:secretsmanager:[A-Z][A-Za-z]+)(?![\w-]))"

# key = value, key: value, "key": "value", key=value&... for secret-like keys. A match
# can only start where a run of [\w.-] starts (an earlier start in the run would match
# too), so the look-behind changes no match, and spares scanning every position inside
# long words. An access key id as the value is an identifier and stays.
_KEY_VALUE = re.compile(
    r"(?i)(?<![\w.-])" + _NOT_AN_ACTION + r"(?P<key>[\w.-]*"
    r"(?:secret|token|passw(?:or)?d|pwd|api[_-]?key|access[_-]?key|"
    r"private[_-]?key|credential|signature)[\w.-]*)"
    r"(?P<sep>[\"']?\s*(?:=|:)\s*[\"']?)(?!\[REDACTED\])(?!" + _ACCESS_KEY_ID + r"(?![A-Za-z0-9]))"
    r"(?P<value>[^\s\"',;&<>)}\]]{4,})"
)
# Words that follow "the password is" in a sentence about a password, not in one that
# gives it away ("the password is not set", "the token is expired"): a whole word, so
# "not-set-42", "of=000" or "a!0000" are still values.
_NOT_A_VALUE = (
    "not|set|unset|required|missing|empty|blank|none|null|nil|invalid|valid|expired|"
    "wrong|incorrect|correct|too|also|now|still|only|never|always|used|unused|being|been|"
    "managed|rotated|stored|kept|provided|given|enabled|disabled|configured|needed|"
    "changed|reset|shown|hidden|masked|redacted|present|absent|available|unavailable|"
    "generated|encrypted|unencrypted|created|deleted|removed|revoked|active|inactive|"
    "older|newer|longer|shorter|weak|strong|ok|okay|fine|good|bad|new|old|same|different|"
    "the|a|an|this|that|its|their|your|our|my|his|her|in|on|at|of|for|from|to|by|with|"
    "and|or|but|if|as|than|then|true|false|yes|no|off|followed|returned|accepted|"
    "rejected|updated|due|about|over|under|more|less|here|there|what|which|who|when|"
    "where|why|how|whatever|optional|mandatory|case|sensitive|unknown|known|secret|"
    "secure|insecure|safe|unsafe|short|long|correctly|incorrectly|ignored|saved|sent"
)
# A secret given in a sentence: "the password is X", "api key: X", "token was 'X Y'".
_PHRASE = re.compile(
    r"(?i)(?<![\w.-])" + _NOT_AN_ACTION + r"(?P<key>[\w.-]*"
    r"(?:passw(?:or)?d|passphrase|pwd|secret|token|api[ _-]?key|"
    r"private[ _-]?key|credentials?)[\w.-]*)"
    r"(?P<sep>\s+(?:is|was|are|were)(?:\s+set\s+to)?\s*[:=]?\s+|\s*[:=]\s*)"
    r"(?:(?P<quote>[\"'`])(?!\[REDACTED\](?P=quote))(?P<quoted>[^\"'`\n]{1,200})(?P=quote)|"
    r"(?!\[REDACTED\])(?!" + _ACCESS_KEY_ID + r"(?![A-Za-z0-9]))"
    r"(?!(?:" + _NOT_A_VALUE + r")[.,;:!?)}\]\"'`]*(?:\s|$))(?P<value>[^\s\"'`,;<>)}\]]{3,}))"
)


def _phrase_replacement(match: re.Match[str]) -> str:
    quote = match.group("quote") or ""
    return f"{match.group('key')}{match.group('sep')}{quote}{MASK}{quote}"


# An AWS secret access key by its shape: 40 characters of the base64 alphabet, alone
# (not part of a longer run), with both cases and a digit, a slash or a plus. Hex
# digests have one case, longer base64 blobs are longer, names have separators. An `=`
# after it ends it (base64 of 40 characters has no padding: `KEY=value`).
_SECRET_ACCESS_KEY = re.compile(
    r"(?<![A-Za-z0-9/+])(?=[A-Za-z0-9/+]*[a-z])(?=[A-Za-z0-9/+]*[A-Z])"
    r"(?=[A-Za-z0-9/+]*[0-9/+])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+])"
)

_PATTERNS: tuple[tuple[re.Pattern[str], _Replacement, _Gate], ...] = (
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
    # Bearer / Basic authorisation values (not the word of a phrase: "Basic password is X").
    (
        re.compile(
            r"(?i)\b(Bearer|Basic)\s+(?!(?:passw(?:or)?d|passphrase|secret|token|credentials?)\b)"
            r"[A-Za-z0-9\-._~+/]{8,}=*"
        ),
        r"\1 " + MASK,
        _any_case("bearer", "basic"),
    ),
    # Slack-style incoming webhook paths.
    (
        re.compile(r"(hooks\.slack\.com/services/)[A-Za-z0-9/_-]+"),
        r"\1" + MASK,
        lambda text, _: "hooks.slack.com/services/" in text,
    ),
    (_KEY_VALUE, r"\g<key>\g<sep>" + MASK, _has_key_value),
    (_PHRASE, _phrase_replacement, _any_case(*_PHRASE_MARKERS)),
    (_SECRET_ACCESS_KEY, MASK, _may_hold_secret_key),
)


def _scrub_patterns(text: str) -> str:
    if not text:
        return text
    lower = text.lower() if text.isascii() else None
    for pattern, replacement, may_match in _PATTERNS:
        if may_match(text, lower):
            text, count = pattern.subn(replacement, text)
            if count:
                lower = text.lower() if text.isascii() else None
    return text


def outside_arns(text: str, scrub: Callable[[str], str]) -> str:
    """Apply `scrub` to the text between the ARNs in `text`; the ARNs stay as they are."""
    if "arn:" not in text:
        return scrub(text)
    pieces: list[str] = []
    last = 0
    for arn in _ARN.finditer(text):
        pieces.append(scrub(text[last : arn.start()]))
        pieces.append(arn.group())
        last = arn.end()
    pieces.append(scrub(text[last:]))
    return "".join(pieces)


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
        return outside_arns(text, _scrub_patterns)

    def scrub_obj(self, obj: Any) -> Any:
        """Scrub every string in a JSON-like structure; values of secret-named keys go whole
        unless they are identifiers (an ARN, an access key id, a timestamp, a boolean)."""
        if isinstance(obj, str):
            return self.scrub(obj)
        if isinstance(obj, Mapping):
            out: dict[Any, Any] = {}
            for key, value in obj.items():
                if (
                    isinstance(key, str)
                    and isinstance(value, str)
                    and _SECRET_KEY.search(key)
                    and not _IDENTIFIER.fullmatch(value)
                ):
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


def _failing_closed(scrub: Callable[[str], str]) -> Callable[[str], str]:
    def safe(text: str) -> str:
        try:
            return scrub(text)
        except Exception:
            return WITHHELD

    return safe


def scrub_header(
    answers: Iterable[str | Sequence[str]], scrub: Callable[[str], str]
) -> list[str | list[str]]:
    """Every plugin's `pytest_report_header` answer (a line or a list of lines), scrubbed;
    a line the redaction fails on is withheld."""
    safe = _failing_closed(scrub)
    return [
        safe(answer) if isinstance(answer, str) else [safe(str(line)) for line in answer]
        for answer in answers
    ]


_SCRUBBED_WRITER = "_readiness_scrubbed"


def scrub_terminal(config: pytest.Config, redactor: Callable[[], Redactor]) -> bool:
    """Scrub every text pytest's terminal reporter writes from now on (test ids, skip
    reasons, warnings, other plugins' lines) with the redactor of the moment, before
    colour codes are added; a text the redaction fails on is withheld. False when there
    is no terminal reporter."""
    if config.pluginmanager.get_plugin("terminalreporter") is None:
        return False
    writer = config.get_terminal_writer()
    if getattr(writer, _SCRUBBED_WRITER, False):
        return True
    write = writer.write
    safe = _failing_closed(lambda text: redactor().scrub(text))

    def scrubbed_write(msg: str, **kwargs: Any) -> None:
        write(safe(msg) if isinstance(msg, str) else msg, **kwargs)

    writer.write = scrubbed_write  # type: ignore[method-assign]
    setattr(writer, _SCRUBBED_WRITER, True)
    return True
