"""Redaction by what a value is, and no secret in the terminal either.

Planted secrets of every shape (AWS secret access keys with or without `/` and `+`,
passwords and tokens given in sentences or as key=value) are removed from any text
around them; identifiers a reader needs (ARNs, access key ids, names, UUIDs, digests,
timestamps) are never changed. Two real runs in a child process show that the header
pytest prints before any report (the target's URL with credentials, a configuration
error quoting a `${VAR}` value) and every other line are scrubbed like the files.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import html
import io
import random
import re
import stat
import string
from pathlib import Path
from typing import cast

import pytest
from _pytest._io import TerminalWriter
from hypothesis import assume, given
from hypothesis import strategies as st

from readiness.emulator import EmulatorProcess
from readiness.emulator.control import EmulatorControl
from readiness.emulator.seeds import TAGS
from reports.redaction import MASK, WITHHELD, Redactor, scrub_header, scrub_terminal

from .conftest import SuiteRun, run_suite, write_catalogue

_BASE64 = string.ascii_letters + string.digits + "/+"
_ALNUM = string.ascii_letters + string.digits
# Text around a planted secret must not itself say "password", "token", ...: such a word
# right before the planted one would be taken for the key and mask it instead.
_MARKER = re.compile(r"(?i)passw|passphrase|pwd|secret|token|api|private|credential|key|signat")


def _key_shaped(text: str) -> bool:
    return (
        any(c.islower() for c in text)
        and any(c.isupper() for c in text)
        and any(c.isdigit() or c in "/+" for c in text)
    )


secret_access_keys = st.text(_BASE64, min_size=40, max_size=40).filter(_key_shaped)
# The shape a hostile run found kept: no `/` and no `+`, letters and digits only.
plain_secret_access_keys = st.text(_ALNUM, min_size=40, max_size=40).filter(_key_shaped)
phrase_values = st.text(_ALNUM + "-_!#$%^*+=.~/", min_size=6, max_size=24).filter(
    lambda v: any(c.isdigit() for c in v)
)
surroundings = st.text(max_size=40).filter(lambda t: _MARKER.search(t) is None)
_PHRASES = (
    "the password is {v}",
    "Password is: {v}",
    "The DB password was {v}.",
    "token: {v}",
    "secret={v}",
    "api key is {v}",
    "API key: {v}",
    "DB_PASSWORD={v}",
    "the secret was '{v}'",
    'passphrase = "{v}"',
    "the token is set to {v}",
    "credentials: {v}",
)
# Characters that may stand right beside a secret access key.
_BESIDE_KEY = (" ", "\n", "(", ")", '"', "'", ":", ",", "=", "<", ">", "\t")


def _masked_away(secret: str, text: str) -> bool:
    return secret not in text and secret not in text.replace(MASK, "")


@given(
    st.one_of(secret_access_keys, plain_secret_access_keys),
    surroundings,
    surroundings,
    st.sampled_from(_BESIDE_KEY),
    st.sampled_from(_BESIDE_KEY),
)
def test_secret_access_keys_are_masked_in_any_text(
    key: str, before: str, after: str, left: str, right: str
) -> None:
    assume(key not in before + after)
    text = f"{before}{left}{key}{right}{after}"
    scrubbed = Redactor().scrub(text)
    assert _masked_away(key, scrubbed), scrubbed


@given(st.sampled_from(_PHRASES), phrase_values, surroundings, surroundings)
def test_secrets_given_in_sentences_are_masked(
    phrase: str, value: str, before: str, after: str
) -> None:
    assume(value not in before + after)
    text = f"{before} {phrase.format(v=value)} {after}"
    scrubbed = Redactor().scrub(text)
    assert _masked_away(value, scrubbed), scrubbed


@given(
    st.sampled_from(["Value", "Description", "AlarmDescription", "Note", "x"]),
    st.one_of(
        plain_secret_access_keys,
        st.builds(lambda v: f"the password is {v}", phrase_values),
        st.builds(lambda v: f"token: {v}", phrase_values),
    ),
)
def test_secret_shapes_are_masked_in_every_field_of_data(field: str, planted: str) -> None:
    data = {"Tags": [{"Key": "Note", field: f"ops note: {planted} (rotate)"}], "Other": [planted]}
    cleaned = Redactor().scrub_obj(data)
    secret = planted.rsplit(" ", 1)[-1]
    assert secret not in str(cleaned)


def test_the_phrases_a_hostile_run_found_are_masked() -> None:
    scrub = Redactor().scrub
    key = "wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY12"  # no slash, no plus
    assert scrub(f"rotate {key} soon") == f"rotate {MASK} soon"
    assert scrub("the password is hunter2hunter2.") == f"the password is {MASK}"
    assert scrub("token: tok-81f2a") == f"token: {MASK}"
    assert scrub("secret=s3cr3tv4lue") == f"secret={MASK}"
    assert scrub("the api key is 'two words'") == f"the api key is '{MASK}'"


def test_sentences_about_a_password_keep_their_words() -> None:
    scrub = Redactor().scrub
    for text in (
        "Password is required",
        "the token is not valid",
        "The nextToken is not valid",
        "the secret is rotated every 30 days",
        "master password is managed by Secrets Manager",
        "AWS credentials are for account 123456789012",
        "environment local has no runbook_url",
    ):
        assert scrub(text) == text


# -- identifiers ------------------------------------------------------------------------

arns = st.builds(
    lambda partition, service, region, account, resource: (
        f"arn:{partition}:{service}:{region}:{account}:{resource}"
    ),
    st.sampled_from(["aws", "aws-cn", "aws-us-gov"]),
    st.sampled_from(["iam", "s3", "sqs", "rds", "secretsmanager", "lambda", "kms", "logs", "sns"]),
    st.sampled_from(["", "us-east-1", "eu-west-1"]),
    st.sampled_from(["", "123456789012", "aws"]),
    st.text(_ALNUM + "/:_+=.@-", min_size=1, max_size=60),
)
access_key_ids = st.builds(
    lambda prefix, rest: prefix + rest,
    st.sampled_from(["AKIA", "ASIA"]),
    st.text(string.ascii_uppercase + string.digits, min_size=16, max_size=16),
)
names = st.from_regex(r"[a-z][a-z0-9-]{0,62}", fullmatch=True) | st.from_regex(
    r"[A-Za-z][A-Za-z0-9]{0,30}(-[A-Za-z0-9_]{1,20}){0,3}", fullmatch=True
)
uuids = st.uuids().map(str) | st.uuids().map(lambda u: str(u).upper())
digests = st.binary(max_size=64).flatmap(
    lambda data: st.sampled_from(
        [
            hashlib.sha256(data).hexdigest(),
            hashlib.sha1(data).hexdigest(),  # a digest's shape, not a use of SHA-1
            hashlib.sha1(data).hexdigest().upper(),
            hashlib.md5(data).hexdigest(),
        ]
    )
)
timestamps = st.datetimes(
    min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2100, 1, 1), timezones=st.just(dt.UTC)
).flatmap(
    lambda moment: st.sampled_from(
        [moment.isoformat(), moment.strftime("%Y-%m-%dT%H:%M:%SZ"), moment.date().isoformat()]
    )
)
plain_values = st.integers().map(str) | st.sampled_from(["true", "false", "True", "False"])
identifiers = st.one_of(arns, access_key_ids, names, uuids, digests, timestamps, plain_values)


@given(identifiers, st.sampled_from(["{i}", "checked {i} in us-east-1", "({i})", '"{i}"']))
def test_identifiers_are_never_changed(identifier: str, template: str) -> None:
    text = template.format(i=identifier)
    assert Redactor().scrub(text) == text


@given(identifiers)
def test_identifiers_in_data_are_never_changed(identifier: str) -> None:
    data = {"Arn": identifier, "Tags": {"Name": identifier}, "Items": [identifier, 42, True]}
    assert Redactor().scrub_obj(data) == data


@given(st.one_of(arns, access_key_ids, timestamps))
def test_identifiers_under_secret_named_keys_stay(identifier: str) -> None:
    data = {"AccessKeyId": identifier, "SecretArn": identifier, "PasswordLastUsed": identifier}
    assert Redactor().scrub_obj(data) == data
    assert Redactor().scrub_obj({"SecretAccessKey": "abc"}) == {"SecretAccessKey": MASK}


def test_a_known_secret_is_masked_even_inside_an_arn() -> None:
    redactor = Redactor(["Known-Secret-77"])
    arn = "arn:aws:sqs:us-east-1:123456789012:Known-Secret-77"
    assert redactor.scrub(arn) == f"arn:aws:sqs:us-east-1:123456789012:{MASK}"


# -- the terminal ------------------------------------------------------------------------


def test_header_answers_are_scrubbed_and_withheld_when_the_scrub_fails() -> None:
    scrub = Redactor(["tok-Zq81mXw0pLr5"]).scrub
    answers = [
        "target: http://admin:S3cretPw77x@127.0.0.1:1",
        ["a", "cannot run: tok-Zq81mXw0pLr5"],
    ]
    assert scrub_header(answers, scrub) == [
        f"target: http://{MASK}@127.0.0.1:1",
        ["a", f"cannot run: {MASK}"],
    ]

    def broken(text: str) -> str:
        raise RuntimeError("no")

    assert scrub_header(["tok-Zq81mXw0pLr5"], broken) == [WITHHELD]


class _Plugins:
    def __init__(self, reporter: object | None) -> None:
        self.reporter = reporter

    def get_plugin(self, name: str) -> object | None:
        return self.reporter if name == "terminalreporter" else None


class _Config:
    def __init__(self, writer: TerminalWriter | None) -> None:
        self.writer = writer
        self.pluginmanager = _Plugins(writer)

    def get_terminal_writer(self) -> TerminalWriter:
        assert self.writer is not None
        return self.writer


def test_everything_the_terminal_writer_writes_is_scrubbed_with_the_current_redactor() -> None:
    out = io.StringIO()
    writer = TerminalWriter(out)
    config = cast(pytest.Config, _Config(writer))
    current = {"redactor": Redactor()}
    assert scrub_terminal(config, lambda: current["redactor"]) is True
    assert scrub_terminal(config, lambda: current["redactor"]) is True  # installed once
    writer.line("endpoint http://admin:S3cretPw77x@127.0.0.1:1")
    current["redactor"] = Redactor(["learnt-later-99"])
    writer.sep("=", "value learnt-later-99")
    writer.write("the password is hunter2hunter2\n", bold=True)
    text = out.getvalue()
    for secret in ("S3cretPw77x", "learnt-later-99", "hunter2hunter2"):
        assert secret not in text
    assert text.count(MASK) == 3
    assert scrub_terminal(cast(pytest.Config, _Config(None)), Redactor) is False


def test_a_terminal_text_the_scrub_fails_on_is_withheld() -> None:
    out = io.StringIO()
    writer = TerminalWriter(out)

    class Broken:
        def scrub(self, text: str) -> str:
            raise RuntimeError("no")

    scrub_terminal(cast(pytest.Config, _Config(writer)), lambda: cast(Redactor, Broken()))
    writer.line("tok-Zq81mXw0pLr5")
    assert out.getvalue() == WITHHELD + WITHHELD  # the line, then its newline


# -- a gated session: every plugin's header and lines, files written late ---------------

_LATE_CONFTEST = """
import json
import pytest

pytest_plugins = ["reports.plugin"]


def pytest_readiness_target(config):
    return {"environment": "unit", "account": "210987654321", "regions": ["eu-west-1"],
            "endpoint": "https://svc:UrlPass-4k2Jd@api.internal:8443", "emulated": True}


def pytest_report_header(config):
    return ["planted: the password is HeaderPw-81x", "planted: token=TermTok-26q"]


def pytest_terminal_summary(terminalreporter):
    terminalreporter.write_line("planted: secret=SummaryS3cret-5")


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session):
    # Written after the verdict's files, as the core writes its API-call ledger.
    out = session.config.rootpath / "out"
    ledger = {"calls": [{"request": "Note: the password is LedgerPw-73z", "outcome": "ok"}]}
    (out / "api-calls.json").write_text(json.dumps(ledger))
"""
_LATE_CHECKS = """
import pytest

pytestmark = [pytest.mark.audit, pytest.mark.critical]


@pytest.mark.check(id="always-fine", title="Always fine", category="operations",
                   remediation="Nothing to do.")
def test_fine():
    assert True
"""


def test_headers_terminal_lines_and_late_files_of_any_plugin_are_scrubbed(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    pytester.makeini("[pytest]\nreadiness_gate = true\n")
    pytester.makeconftest(_LATE_CONFTEST)
    pytester.makepyfile(test_checks=_LATE_CHECKS)
    (pytester.path / "waivers.toml").write_text("")
    write_catalogue(pytester.path)
    result = pytester.runpytest_inprocess("-p", "no:randomly", "-rA")
    terminal = result.stdout.str() + result.stderr.str()
    assert terminal.count("planted: ") == 3, terminal  # the lines were printed
    out = pytester.path / "out"
    ledger = (out / "api-calls.json").read_text()
    assert "the password is" in ledger
    planted = ("UrlPass-4k2Jd", "HeaderPw-81x", "TermTok-26q", "SummaryS3cret-5", "LedgerPw-73z")
    texts = {"terminal": terminal, **{p.name: p.read_text() for p in out.iterdir()}}
    assert {name: [s for s in planted if s in text] for name, text in texts.items()} == {
        name: [] for name in texts
    }
    assert stat.S_IMODE((out / "readiness.html").stat().st_mode) == 0o600
    assert stat.S_IMODE((out / "api-calls.json").stat().st_mode) == 0o600


# -- real runs: the header, every other line, every file ----------------------------------


def _everything(run: SuiteRun) -> dict[str, str]:
    """The terminal and every file of the report folder, HTML also unescaped and with
    its base64 blobs decoded."""
    texts = {"terminal": run.stdout + run.stderr}
    for path in sorted(run.out.rglob("*")):
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        texts[str(path.relative_to(run.out))] = text
        if path.suffix == ".html":
            texts[f"{path.name} (unescaped)"] = html.unescape(text)
            decoded = []
            for blob in re.findall(r"[A-Za-z0-9+/]{40,}={0,2}", text):
                try:
                    decoded.append(base64.b64decode(blob + "=" * (-len(blob) % 4)).decode())
                except (binascii.Error, UnicodeDecodeError):
                    continue
            texts[f"{path.name} (decoded)"] = "\n".join(decoded)
    return texts


def _leaks(run: SuiteRun, planted: dict[str, str]) -> dict[str, list[str]]:
    found = {
        where: [what for what, value in planted.items() if value in text]
        for where, text in _everything(run).items()
    }
    return {where: what for where, what in found.items() if what}


def _random(rng: random.Random, size: int, alphabet: str = _ALNUM) -> str:
    return "".join(rng.choice(alphabet) for _ in range(size))


@pytest.fixture(scope="module")
def hostile_audit(tmp_path_factory: pytest.TempPathFactory) -> tuple[SuiteRun, dict[str, str]]:
    """An audit of the emulator reached through an endpoint_url with credentials, with
    secrets planted in a tag, an alarm description, the environment and the config."""
    rng = random.Random(20261202)
    tmp = tmp_path_factory.mktemp("hostile")
    password = "S3cretPw77" + _random(rng, 6)
    token = "tok-" + _random(rng, 16)
    tag_password = "pw-" + _random(rng, 14)
    key = "Qk" + _random(rng, 36) + "7z"  # 40 characters, no slash, no plus
    planted = {
        "endpoint_url password": password,
        "${MY_API_TOKEN}": token,
        "AWS_SECRET_ACCESS_KEY": "Ab1" + _random(rng, 37, _BASE64),
        "tag value 'the password is ...'": tag_password,
        "secret access key in an alarm description": key,
    }
    with EmulatorProcess.start("demo") as emulator:
        control = EmulatorControl(emulator.endpoint)
        control.client("sqs").create_queue(
            QueueName="prod-hostile",
            tags={**TAGS, "Note": f"the password is {tag_password}", "Rotated": _KEY_ID},
        )
        control.client("cloudwatch").put_metric_alarm(
            AlarmName="prod-hostile-depth",
            AlarmDescription=f"page ops; the old key {key} was rotated",
            Namespace="AWS/SQS",
            MetricName="ApproximateNumberOfMessagesVisible",
            Dimensions=[{"Name": "QueueName", "Value": "prod-hostile"}],
            Statistic="Maximum",
            Period=60,
            EvaluationPeriods=1,
            Threshold=100,
            ComparisonOperator="GreaterThanThreshold",
        )
        host = emulator.endpoint.split("://", 1)[1]
        config = tmp / "readiness.toml"
        config.write_text(
            'default_environment = "hostile"\n\n'
            "[environments.hostile]\n"
            'account_id = "123456789012"\n'
            'regions = ["us-east-1"]\n'
            f'endpoint_url = "http://admin:{password}@{host}"\n'
            'runbook_url = "docs/${MY_API_TOKEN}.md"\n'
            'on_call = "#ops"\n',
            encoding="utf-8",
        )
        run = run_suite(
            ["-m", "audit", f"--config={config}", "-rA"],
            tmp / "out",
            env={
                "MY_API_TOKEN": token,
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": planted["AWS_SECRET_ACCESS_KEY"],
                "AWS_DEFAULT_REGION": "us-east-1",
            },
        )
    return run, planted


_KEY_ID = "AKIAIOSFODNN7EXAMPLE"


@pytest.mark.slow
def test_no_secret_of_an_audit_through_a_url_with_credentials_is_shown(
    hostile_audit: tuple[SuiteRun, dict[str, str]],
) -> None:
    run, planted = hostile_audit
    assert "Traceback" not in run.stdout + run.stderr
    assert run.verdict["complete"] is True
    # The planted places reached the run: the header names the target, the runbook
    # check failed on the ${MY_API_TOKEN} path, the queue and the alarm were collected.
    assert re.search(r"^target: hostile .* at http://\S+@127\.0\.0\.1:\d+$", run.stdout, re.M)
    assert "runbook docs/" in run.stdout
    inventory = (run.out / "inventory.json").read_text(encoding="utf-8")
    assert "prod-hostile-depth" in inventory
    assert "the password is " in inventory
    assert _leaks(run, planted) == {}


@pytest.mark.slow
def test_identifiers_survive_the_scrub_of_the_inventory(
    hostile_audit: tuple[SuiteRun, dict[str, str]],
) -> None:
    run, _ = hostile_audit
    inventory = (run.out / "inventory.json").read_text(encoding="utf-8")
    assert _KEY_ID in inventory
    assert "arn:aws:sqs:us-east-1:123456789012:prod-hostile" in inventory


@pytest.mark.slow
def test_a_configuration_error_quoting_secrets_is_scrubbed_in_the_header(tmp_path: Path) -> None:
    """The run cannot start: the header's `readiness: cannot run:` line quotes a value
    that came from ${MY_API_TOKEN} and a URL with credentials."""
    token = "tok-Hq7" + "x" * 5 + "Zp2Lm"
    password = "UrlPass-9f3kQ"
    config = tmp_path / "readiness.toml"
    config.write_text(
        'default_environment = "hostile"\n\n'
        "[environments.hostile]\n"
        'account_id = "123456789012"\n'
        f'regions = ["http://admin:{password}@127.0.0.1:9/${{MY_API_TOKEN}}"]\n',
        encoding="utf-8",
    )
    run = run_suite(
        ["-m", "audit", f"--config={config}"], tmp_path / "out", env={"MY_API_TOKEN": token}
    )
    assert run.returncode == 2
    assert "Traceback" not in run.stdout + run.stderr
    header = [line for line in run.stdout.splitlines() if line.startswith("readiness: cannot run")]
    assert len(header) == 1, run.stdout[-3000:]
    assert "is not an AWS region name" in header[0]
    assert _leaks(run, {"${MY_API_TOKEN}": token, "URL password": password}) == {}
