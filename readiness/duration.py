"""Durations as the command line and readiness.toml write them: `90s`, `15m`, `2h`,
`1h30m`, `1h 30m`, or a bare number of seconds (`300`). One parser for every option."""

from __future__ import annotations

import re

_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([hms])")
_WHOLE = re.compile(r"^(?:\d+(?:\.\d+)?\s*[hms]\s*)+$")
_BARE = re.compile(r"^\d+(?:\.\d+)?$")
_SECONDS = {"h": 3600.0, "m": 60.0, "s": 1.0}
EXAMPLES = "90s, 15m, 2h, 1h30m or a number of seconds"


class DurationError(ValueError):
    """The text is not a duration; the message says what was given and what would do."""


def parse_duration(text: str) -> float:
    """The duration in seconds; more than zero, units in the order h, m, s, each once."""
    cleaned = text.strip().lower()
    if _BARE.match(cleaned):
        seconds = float(cleaned)
    elif _WHOLE.match(cleaned):
        parts = _PART.findall(cleaned)
        units = [unit for _, unit in parts]
        if units != sorted(set(units), key="hms".index):
            raise DurationError(f"{text!r} is not a duration (use {EXAMPLES})")
        seconds = sum(float(number) * _SECONDS[unit] for number, unit in parts)
    else:
        raise DurationError(f"{text!r} is not a duration (use {EXAMPLES})")
    if seconds <= 0:
        raise DurationError(f"{text!r} is not a duration: it must be more than zero")
    return seconds


def option_duration(option: str, text: str) -> float:
    """`parse_duration` for a command-line option: the message names the option."""
    try:
        return parse_duration(text)
    except DurationError as exc:
        raise DurationError(f"{option}: {exc}") from None


def describe_seconds(seconds: float) -> str:
    """300 → '5m', 5400 → '1h30m', 45 → '45s' (the parser reads it back)."""
    whole = round(seconds)
    if whole != seconds or whole <= 0:
        return f"{seconds:g}s"
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    text = (f"{hours}h" if hours else "") + (f"{minutes}m" if minutes else "")
    return text + (f"{secs}s" if secs else "")
