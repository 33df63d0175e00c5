"""Redaction rules on their own: what is masked, what is left alone."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from reports.redaction import (
    MASK,
    Redactor,
    scrub_extra,
    secret_values_from_environment,
    secret_values_in,
)


def test_secret_named_variables_are_masked_but_not_the_working_directory() -> None:
    found = secret_values_from_environment(
        {
            "PWD": "/home/ci/build",
            "OLDPWD": "/home/ci",
            "XDG_SESSION_ID": "session-17",
            "DB_PASSWORD": "hunter2hunter2",
            "GITHUB_TOKEN": "ghp_abcdefghijkl",
            "DATABASE_URL": "postgres://app:UrlPass99@db:5432/x",
            "DEBUG": "true",
        }
    )
    assert sorted(found) == ["UrlPass99", "ghp_abcdefghijkl", "hunter2hunter2"]


def test_patterns_catch_secrets_nobody_announced() -> None:
    scrub = Redactor().scrub
    # An access key id names a key (the reader needs it to rotate the key): it stays.
    assert scrub("key AKIAABCDEFGHIJKLMNOP here") == "key AKIAABCDEFGHIJKLMNOP here"
    assert scrub("https://u:p4ssw0rd@host/x") == f"https://{MASK}@host/x"
    assert "s3cr3tvalue" not in scrub('{"client_secret": "s3cr3tvalue"}')
    assert "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" not in scrub(
        "aws wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    )
    # Ordinary text survives.
    text = "us-east-1/prod-db has Performance Insights off (arn:aws:rds:us-east-1:1:db:x)"
    assert scrub(text) == text


def test_target_url_passwords_are_known_secrets() -> None:
    target = {"endpoint": "https://svc:Tgt9Pass@api:8443", "regions": ["us-east-1"]}
    redactor = Redactor(secret_values_in(target))
    assert redactor.scrub("the password Tgt9Pass alone") == f"the password {MASK} alone"


def test_svg_and_json_extras_are_scrubbed() -> None:
    import base64

    redactor = Redactor(["planted-value-1"])
    svg = {
        "format_type": "image",
        "mime_type": "image/svg+xml",
        "content": base64.b64encode(b"<svg><text>planted-value-1</text></svg>").decode(),
    }
    scrub_extra(svg, redactor)
    assert b"planted-value-1" not in base64.b64decode(svg["content"])
    data = {"format_type": "json", "content": {"password": "abc123456", "x": ["planted-value-1"]}}
    scrub_extra(data, redactor)
    assert data["content"] == {"password": MASK, "x": [MASK]}


@given(st.text(max_size=80))
def test_scrubbing_is_idempotent(text: str) -> None:
    redactor = Redactor(["planted-value-1"])
    once = redactor.scrub(text)
    assert redactor.scrub(once) == once


@given(
    st.sampled_from(["token", "password", "api_key", "secret"]),
    st.text("abcdef0123", min_size=6, max_size=20),
)
def test_key_value_secrets_are_masked(key: str, value: str) -> None:
    scrubbed = Redactor().scrub(f"{key}={value} and more")
    assert value not in scrubbed.replace(MASK, "")


def _every_pattern(redactor: Redactor, text: str) -> str:
    """The scrub with no shortcut: every pattern over the text between the ARNs."""
    from reports import redaction

    if redactor._literal is not None:
        text = redactor._literal.sub(MASK, text)

    def every(piece: str) -> str:
        for pattern, replacement, _ in redaction._PATTERNS:
            piece = pattern.sub(replacement, piece)
        return piece

    return redaction.outside_arns(text, every)


_PIECES = [
    "AKIAABCDEFGHIJKLMNOP",
    "ASIA",
    "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf",
    "arn:",
    "the password is ",
    " was ",
    "api key",
    "'",
    "wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY12",
    "https://u:p4ssw0rd@host/x",
    "://",
    "@",
    "-----BEGIN RSA PRIVATE KEY-----\nabc\n-----END RSA PRIVATE KEY-----",
    "Bearer abcdefghijk",
    "BASIC",
    "hooks.slack.com/services/T0/B0/xyz",
    "client_secret",
    "Api-Key",
    "\u017fecret",
    "K",
    "passwd",
    "=",
    ": ",
    '"',
    "planted-value-1",
    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "/",
    "+",
    "a" * 41,
    "x",
    " ",
    "\n",
    "é",
    "9",
]


@given(st.lists(st.sampled_from(_PIECES) | st.text(max_size=8), max_size=12))
def test_shortcuts_never_change_what_is_masked(parts: list[str]) -> None:
    """The scrub skips patterns that cannot match and remembers texts it has seen;
    the result must be the same as running every pattern, every time."""
    redactor = Redactor(["planted-value-1"])
    text = "".join(parts)
    expected = _every_pattern(redactor, text)
    assert redactor.scrub(text) == expected
    assert redactor.scrub(text) == expected  # the remembered answer


def test_case_insensitive_patterns_still_see_non_ascii_letters() -> None:
    # The long s (U+017F) matches "s" in a case-insensitive pattern: no ASCII shortcut skips it.
    scrubbed = Redactor().scrub("\u017fecret=hunter2hunter2")
    assert "hunter2hunter2" not in scrubbed


_KEY_VALUE_AS_FIRST_WRITTEN = re.compile(
    r"(?i)(?P<key>[\w.-]*(?:secret|token|passw(?:or)?d|pwd|api[_-]?key|access[_-]?key|"
    r"private[_-]?key|credential|signature)[\w.-]*)"
    r"(?P<sep>[\"']?\s*(?:=|:)\s*[\"']?)(?!\[REDACTED\])"
    r"(?!(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}(?![A-Za-z0-9]))"
    r"(?P<value>[^\s\"',;&<>)}\]]{4,})"
)


@given(st.lists(st.sampled_from([*_PIECES, "my.db-", "_", "-", "ab"]) | st.text(max_size=6)))
def test_key_value_pattern_matches_as_first_written(parts: list[str]) -> None:
    """The key = value pattern gained a look-behind for speed; it must mask the same."""
    from reports import redaction

    text = "".join(parts)
    pattern = redaction._KEY_VALUE
    replacement = next(r for p, r, _ in redaction._PATTERNS if p is pattern)
    assert isinstance(replacement, str)
    assert pattern.sub(replacement, text) == _KEY_VALUE_AS_FIRST_WRITTEN.sub(replacement, text)


def test_remembered_texts_stay_bounded() -> None:
    from reports import redaction

    redactor = Redactor()
    for number in range(600):
        text = f"{number:05d} " + "x" * 19_000
        assert redactor.scrub(text) == text
    assert 0 < redactor._memo_chars <= redaction._MEMO_CHARS_MAX
    assert sum(len(k) + len(v) for k, v in redactor._memo.items()) == redactor._memo_chars


def test_a_secrets_manager_action_name_is_not_a_secret() -> None:
    """`out/iam-policy.json` and `out/api-calls.json` stay usable as IAM policies."""
    from reports.redaction import Redactor

    redactor = Redactor()
    for action in ("secretsmanager:ListSecrets", "secretsmanager:DescribeSecret"):
        assert redactor.scrub(f'"Action": ["{action}"]') == f'"Action": ["{action}"]'
    # A value after the same prefix that is not an operation name is still masked.
    assert "Hunter2Hunter2" not in redactor.scrub("secretsmanager:Hunter2Hunter2")
    assert "Hunter2Hunter2" not in redactor.scrub("secret: Hunter2Hunter2")
