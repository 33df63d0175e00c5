"""Credentials of a real-account run: the configured profile when a file defines it, the
ambient chain (a CI runner's environment variables) when none does, `--profile` and
READINESS_PROFILE before both, and `role_arn` assumed from whichever is used.

The whole runs use a production-shaped environment (a profile, the emulator's account,
`endpoint_url` on a running emulator at 127.0.0.1), not the embedded one: the credentials
are the ones a real account would get."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from readiness.aws.access import credential_operations, make_session
from readiness.aws.credentials import (
    PROFILE_VARIABLE,
    CredentialsNotFound,
    ProfileError,
    choose_credentials,
)
from readiness.config import EMULATOR_ACCOUNT, Emulator, Environment
from readiness.emulator import EmulatorControl, EmulatorProcess
from readiness.inventory.model import Snapshot

from .conftest import SuiteRun, run_suite

PROFILE = "huntaze-prod"
ROLE = f"arn:aws:iam::{EMULATOR_ACCOUNT}:role/readiness-audit"
# Whatever this machine's shell or CI sets: every case here starts from none of it.
AMBIENT_VARIABLES = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_SESSION_NAME",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_STS",
    PROFILE_VARIABLE,
)


@dataclass(frozen=True)
class AccessKey:
    user_arn: str
    key_id: str
    secret: str


@pytest.fixture(autouse=True)
def no_ambient_credentials(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No ~/.aws, no AWS_* credentials, no instance metadata: a bare CI runner."""
    for name in AMBIENT_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(home / "no-such-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(home / "no-such-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    return home


def production(endpoint: str | None = None, **keys: object) -> Environment:
    fields: dict[str, object] = {
        "name": "production",
        "account_id": EMULATOR_ACCOUNT,
        "regions": ["us-east-1"],
        "profile": PROFILE,
        "endpoint_url": endpoint,
    }
    return Environment.model_validate({**fields, **keys})


def aws_files(home: Path, monkeypatch: pytest.MonkeyPatch, **profiles: AccessKey) -> None:
    """A credentials file defining these profiles (and a config file with their region)."""
    credentials = home / "credentials"
    config = home / "config"
    credentials.write_text(
        "".join(
            f"[{name}]\naws_access_key_id = {k.key_id}\naws_secret_access_key = {k.secret}\n"
            for name, k in profiles.items()
        )
    )
    config.write_text("".join(f"[profile {name}]\nregion = us-east-1\n" for name in profiles))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))


# -- the order, without AWS ----------------------------------------------------------


KEY = AccessKey("arn:aws:iam::123456789012:user/x", "AKIAEXAMPLEKEY000001", "not-a-secret")


def test_the_configured_profile_is_used_when_a_file_defines_it(
    no_ambient_credentials: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    aws_files(no_ambient_credentials, monkeypatch, **{PROFILE: KEY})
    source = choose_credentials(production(), environ={})
    assert (source.profile, source.chosen_by, source.note) == (PROFILE, "readiness.toml", None)


def test_an_undefined_configured_profile_gives_way_to_the_ambient_chain() -> None:
    source = choose_credentials(production(), environ={})
    assert (source.profile, source.chosen_by) == (None, "ambient")
    assert source.note is not None
    assert f"profile {PROFILE!r} of environment 'production' is not defined in" in source.note
    assert "no-such-config or " in source.note and "the ambient AWS credentials" in source.note
    assert choose_credentials(production(profile=None), environ={}).note is None


def test_option_then_variable_then_configured_profile(
    no_ambient_credentials: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    aws_files(no_ambient_credentials, monkeypatch, **{PROFILE: KEY, "audit": KEY, "other": KEY})
    env = production()
    by_option = choose_credentials(env, "audit", environ={PROFILE_VARIABLE: "other"})
    assert (by_option.profile, by_option.chosen_by) == ("audit", "--profile")
    assert by_option.note == (
        "--profile: the run uses profile 'audit', not profile 'huntaze-prod' of environment "
        "'production'"
    )
    by_variable = choose_credentials(env, None, environ={PROFILE_VARIABLE: "other"})
    assert (by_variable.profile, by_variable.chosen_by) == ("other", PROFILE_VARIABLE)
    same = choose_credentials(env, PROFILE, environ={})
    assert (same.profile, same.note) == (PROFILE, None)


@pytest.mark.parametrize(
    ("option", "environ", "chosen_by"),
    [
        (None, {PROFILE_VARIABLE: ""}, PROFILE_VARIABLE),
        ("", {PROFILE_VARIABLE: PROFILE}, "--profile"),  # --profile= beats the variable
        ("  ", {}, "--profile"),
    ],
)
def test_an_empty_explicit_profile_is_the_ambient_chain(
    no_ambient_credentials: Path,
    monkeypatch: pytest.MonkeyPatch,
    option: str | None,
    environ: dict[str, str],
    chosen_by: str,
) -> None:
    aws_files(no_ambient_credentials, monkeypatch, **{PROFILE: KEY})  # defined, and skipped
    source = choose_credentials(production(), option, environ=environ)
    assert (source.profile, source.chosen_by) == (None, chosen_by)
    assert source.note == (
        f"{chosen_by} is empty: the run uses the ambient AWS credentials, not profile "
        "'huntaze-prod' of environment 'production'"
    )


@pytest.mark.parametrize(
    ("option", "environ", "named"),
    [
        ("nosuch", {}, "--profile 'nosuch': no such AWS profile in "),
        (None, {PROFILE_VARIABLE: "nosuch"}, "READINESS_PROFILE='nosuch': no such AWS profile in "),
    ],
)
def test_an_undefined_explicit_profile_is_an_error_naming_it(
    no_ambient_credentials: Path,
    monkeypatch: pytest.MonkeyPatch,
    option: str | None,
    environ: dict[str, str],
    named: str,
) -> None:
    aws_files(no_ambient_credentials, monkeypatch, **{PROFILE: KEY})
    with pytest.raises(ProfileError) as raised:
        choose_credentials(production(), option, environ=environ)
    message = str(raised.value)
    assert message.startswith(named), message
    assert f"(defined: {PROFILE})" in message and "empty to use the ambient" in message


def test_an_unreadable_aws_config_file_is_an_error_naming_it(
    no_ambient_credentials: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = no_ambient_credentials / "config"
    broken.write_text("[profile huntaze-prod\nregion = us-east-1\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(broken))
    with pytest.raises(ProfileError, match=r"the AWS config files \(.*/config or .*\) cannot"):
        choose_credentials(production(), environ={})


def test_the_emulator_takes_no_profile() -> None:
    local = Environment(
        name="local", account_id=EMULATOR_ACCOUNT, regions=["us-east-1"], emulator=Emulator()
    )
    assert choose_credentials(local, None, environ={PROFILE_VARIABLE: "nosuch"}).note is None
    ignored = choose_credentials(local, "nosuch", environ={})
    assert (ignored.profile, ignored.chosen_by) == (None, "emulator")
    assert ignored.note == (
        "--profile 'nosuch' is not used: environment 'local' runs on the embedded emulator"
    )


def test_the_chain_operations_follow_the_chosen_profile(
    no_ambient_credentials: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = no_ambient_credentials / "config"
    config.write_text(
        f"[profile {PROFILE}]\nrole_arn = {ROLE}\nsource_profile = base\n"
        "[profile base]\nregion = us-east-1\n"
    )
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    env = production()
    assert credential_operations(env, choose_credentials(env, environ={})) == {"sts:AssumeRole"}
    ambient = choose_credentials(env, environ={PROFILE_VARIABLE: ""})
    assert credential_operations(env, ambient) == frozenset()
    monkeypatch.setenv("AWS_WEB_IDENTITY_TOKEN_FILE", str(no_ambient_credentials / "token"))
    assert credential_operations(env, ambient) == {"sts:AssumeRoleWithWebIdentity"}


def test_a_role_with_no_credentials_to_assume_it_from_is_a_clear_error() -> None:
    env = production(role_arn=ROLE)
    with pytest.raises(CredentialsNotFound) as raised:
        make_session(env, None, choose_credentials(env, environ={}))
    assert str(raised.value) == (
        f"no AWS credentials to assume {ROLE} with (the ambient AWS credentials)"
    )


# -- whole runs against a production-shaped environment ------------------------------


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorProcess]:
    with EmulatorProcess.start("empty") as running:
        yield running


@pytest.fixture(scope="module")
def keys(emulator: EmulatorProcess) -> dict[str, AccessKey]:
    """Access keys of two IAM users: GetCallerIdentity names the user whose key signed."""
    iam = EmulatorControl(emulator.endpoint).client("iam")
    made = {}
    for user in ("ci-runner", "workstation"):
        arn = iam.create_user(UserName=user)["User"]["Arn"]
        key = iam.create_access_key(UserName=user)["AccessKey"]
        made[user] = AccessKey(arn, key["AccessKeyId"], key["SecretAccessKey"])
    return made


def config_file(folder: Path, endpoint: str, extra: str = "") -> Path:
    path = folder / "readiness.toml"
    path.write_text(
        'default_environment = "production"\n\n'
        "[environments.production]\n"
        'description = "production-shaped, on a loopback endpoint"\n'
        f'account_id = "{EMULATOR_ACCOUNT}"\n'
        'regions = ["us-east-1"]\n'
        f'profile = "{PROFILE}"\n'
        f'endpoint_url = "{endpoint}"\n' + extra
    )
    return path


def env_credentials(key: AccessKey) -> dict[str, str]:
    """What aws-actions/configure-aws-credentials exports for a CI job."""
    return {
        "AWS_ACCESS_KEY_ID": key.key_id,
        "AWS_SECRET_ACCESS_KEY": key.secret,
        "AWS_DEFAULT_REGION": "us-east-1",
    }


def preflight(
    tmp_path: Path, emulator: EmulatorProcess, env: dict[str, str], *args: str, extra: str = ""
) -> SuiteRun:
    config = config_file(tmp_path, emulator.endpoint, extra)
    return run_suite(
        ["-m", "preflight", f"--config={config}", "--env", "production", *args],
        tmp_path / "out",
        env=env,
    )


def caller_arn(run: SuiteRun) -> str:
    identity = Snapshot.load(run.out / "inventory.json").first("sts.identity")
    assert identity is not None, run.stdout[-3000:]
    return str(identity.get("Arn"))


def outcomes(run: SuiteRun) -> dict[str, str]:
    return {r["check_id"]: r["outcome"] for r in run.verdict["results"]}


def assert_credentials_pass(run: SuiteRun) -> None:
    assert "Traceback" not in run.stdout + run.stderr, run.stdout[-3000:]
    assert run.returncode == 0, run.stdout[-3000:]
    assert run.verdict["verdict"] == "GO"
    got = outcomes(run)
    assert got["preflight-credentials-valid"] == "passed", got
    assert got["preflight-account-matches"] == "passed", got


def written(run: SuiteRun) -> str:
    """Everything the run printed and wrote."""
    files = "".join(p.read_text() for p in run.out.iterdir() if p.is_file())
    return run.stdout + run.stderr + files


@pytest.mark.slow
def test_env_credentials_reach_a_verdict_when_the_profile_is_not_defined(
    tmp_path: Path, emulator: EmulatorProcess, keys: dict[str, AccessKey]
) -> None:
    ci = keys["ci-runner"]
    run = preflight(tmp_path, emulator, env_credentials(ci))
    assert_credentials_pass(run)
    assert caller_arn(run) == ci.user_arn
    note = f"profile {PROFILE!r} of environment 'production' is not defined in"
    [said] = [n for n in run.verdict["notes"] if note in n]
    assert "the ambient AWS credentials" in said
    assert run.stdout.count(note) == 1  # said once, in the verdict block
    assert note in (run.out / "summary.md").read_text()
    assert ci.secret not in written(run)


@pytest.mark.slow
def test_an_empty_readiness_profile_is_the_same_run(
    tmp_path: Path, emulator: EmulatorProcess, keys: dict[str, AccessKey]
) -> None:
    ci = keys["ci-runner"]
    run = preflight(tmp_path, emulator, {**env_credentials(ci), PROFILE_VARIABLE: ""})
    assert_credentials_pass(run)
    assert caller_arn(run) == ci.user_arn
    assert any(n.startswith("READINESS_PROFILE is empty") for n in run.verdict["notes"])


@pytest.mark.slow
def test_an_undefined_profile_option_is_a_clear_no_go(
    tmp_path: Path, emulator: EmulatorProcess, keys: dict[str, AccessKey]
) -> None:
    run = preflight(tmp_path, emulator, env_credentials(keys["ci-runner"]), "--profile", "nosuch")
    assert run.returncode == 2, run.stdout[-3000:]
    assert "Traceback" not in run.stdout + run.stderr
    assert run.verdict["verdict"] == "NO_GO"
    message = "--profile 'nosuch': no such AWS profile in "
    assert message in run.stdout
    assert any(p.startswith(message) for p in run.verdict["problems"]), run.verdict["problems"]
    assert not (run.out / "api-calls.json").exists()  # nothing was sent with other keys


@pytest.mark.slow
def test_a_defined_profile_is_used_before_env_credentials(
    tmp_path: Path,
    emulator: EmulatorProcess,
    keys: dict[str, AccessKey],
    no_ambient_credentials: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    aws_files(no_ambient_credentials, monkeypatch, **{PROFILE: keys["workstation"]})
    run = preflight(tmp_path, emulator, env_credentials(keys["ci-runner"]))
    assert_credentials_pass(run)
    assert caller_arn(run) == keys["workstation"].user_arn
    assert run.verdict["notes"] == []


@pytest.mark.slow
def test_the_role_is_assumed_from_env_credentials(
    tmp_path: Path, emulator: EmulatorProcess, keys: dict[str, AccessKey]
) -> None:
    run = preflight(
        tmp_path, emulator, env_credentials(keys["ci-runner"]), extra=f'role_arn = "{ROLE}"\n'
    )
    assert_credentials_pass(run)
    assert caller_arn(run) == (
        f"arn:aws:sts::{EMULATOR_ACCOUNT}:assumed-role/readiness-audit/readiness"
    )
    calls = run.json("api-calls.json")
    assert calls["by_operation"]["sts:AssumeRole"] == 1
    assert "sts:AssumeRole" not in run.json("iam-policy.json")["Statement"][0]["Action"]


@pytest.mark.slow
def test_a_role_in_another_account_is_still_refused(
    tmp_path: Path, emulator: EmulatorProcess, keys: dict[str, AccessKey]
) -> None:
    other = "arn:aws:iam::999999999999:role/readiness-audit"
    run = preflight(
        tmp_path, emulator, env_credentials(keys["ci-runner"]), extra=f'role_arn = "{other}"\n'
    )
    assert run.returncode == 2, run.stdout[-3000:]
    assert "refusing to read: the credentials belong to account 999999999999" in run.stdout
    assert outcomes(run)["preflight-account-matches"] == "failed"
    calls = run.json("api-calls.json")
    assert calls["by_operation"] == {"sts:AssumeRole": 1, "sts:GetCallerIdentity": 1}


@pytest.mark.slow
def test_a_web_identity_token_in_the_environment_is_used(
    tmp_path: Path, emulator: EmulatorProcess, no_ambient_credentials: Path
) -> None:
    """The other CI form: AWS_ROLE_ARN with AWS_WEB_IDENTITY_TOKEN_FILE, exchanged by the
    credential chain itself (here at the emulator's STS)."""
    token = no_ambient_credentials / "token"
    token.write_text("eyJhbGciOiJSUzI1NiJ9.e30.c2lnbmF0dXJl")
    oidc_role = f"arn:aws:iam::{EMULATOR_ACCOUNT}:role/github-actions"
    run = preflight(
        tmp_path,
        emulator,
        {
            "AWS_ROLE_ARN": oidc_role,
            "AWS_WEB_IDENTITY_TOKEN_FILE": str(token),
            "AWS_ROLE_SESSION_NAME": "ci",
            "AWS_ENDPOINT_URL_STS": emulator.endpoint,
            PROFILE_VARIABLE: "",
        },
    )
    assert_credentials_pass(run)
    assert caller_arn(run) == f"arn:aws:sts::{EMULATOR_ACCOUNT}:assumed-role/github-actions/ci"
    assert run.json("api-calls.json")["by_operation"]["sts:AssumeRoleWithWebIdentity"] == 1
