"""readiness.toml: valid files load, every bad one gets one message naming file, key, problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from readiness.config import ConfigError, load_config, parse_config, parse_environment

from .conftest import REPO

GOOD = """
[environments.prod]
account_id = "317805897534"
regions = ["us-east-1"]
[environments.local]
account_id = "123456789012"
regions = ["us-east-1"]
emulator = { seed = "demo" }
"""


def test_the_shipped_configuration_loads() -> None:
    config, _ = load_config(REPO / "readiness.toml")
    assert config.default_environment == "local"
    local = config.environment(None)
    assert local.name == "local" and local.emulated
    production = config.environment("production")
    assert production.account_id == "317805897534" and production.regions == ["us-east-1"]


def test_seed_thresholds_are_the_defaults() -> None:
    config, _ = parse_config(GOOD, "readiness.toml")
    limits = config.environment("prod").thresholds
    assert limits.monthly_cost_limit_usd == 500
    assert limits.canary_success_2h_percent == 95
    assert limits.canary_success_24h_percent == 99
    assert limits.canary_green_within_minutes == 15


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[environments.x]\naccount_id = 123\nregions=['us-east-1']", "environments.x.account_id"),
        (
            "[environments.x]\naccount_id = '123456789012'\nregions=['mars-1']",
            "'mars-1' is not an AWS region name",
        ),
        ("[environments.x]\naccount_id = '123456789012'", "environments.x.regions: required"),
        (
            "[environments.x]\naccount_id='123456789012'\nregions=['us-east-1']\ncolour='red'",
            "environments.x.colour: unknown key",
        ),
        ("environments = 3 = 4", "not valid TOML"),
        (
            "[environments.x]\naccount_id='123456789012'\nregions=['us-east-1']\n"
            "[environments.x.thresholds]\nmonthly_cost_limit_usd = -1",
            "environments.x.thresholds.monthly_cost_limit_usd",
        ),
        (
            "[environments.x]\naccount_id='123456789012'\nregions=['us-east-1']\n"
            "health_urls=['{app}/health']",
            "needs the embedded emulator",
        ),
        (
            "[environments.x]\naccount_id='123456789012'\nregions=['us-east-1']\n"
            "[environments.x.notify]\nwebhook_url='${NO_SUCH_VARIABLE_HERE}'",
            "readiness.toml: environments.x.notify.webhook_url: environment variable "
            "NO_SUCH_VARIABLE_HERE is not set",
        ),
    ],
)
def test_bad_configuration_names_the_place(text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(text, "readiness.toml", environ={})
    message = str(info.value)
    assert message.startswith("readiness.toml: ")
    assert expected in message
    assert "\n" not in message  # one line, no traceback


def test_default_environment_must_exist() -> None:
    with pytest.raises(ConfigError, match="default_environment 'local' is not defined"):
        parse_config(GOOD.replace("[environments.local]", "[environments.other]"), "r.toml")


def test_unknown_environment_lists_the_known_ones() -> None:
    config, _ = parse_config(GOOD, "readiness.toml")
    with pytest.raises(ConfigError, match=r"no environment 'stage' \(known: local, prod\)"):
        config.environment("stage")


def test_variables_are_expanded_and_remembered_as_secrets() -> None:
    text = GOOD + "[environments.prod.notify]\nwebhook_url = '${HOOK}'\n"
    config, used = parse_config(text, "readiness.toml", environ={"HOOK": "https://h/x"})
    assert config.environment("prod").notify.webhook_url == "https://h/x"
    assert used == {"HOOK": "https://h/x"}


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="configuration file not found"):
        load_config(tmp_path / "readiness.toml")


# -- sensitive terraform variables, and the lazy load of one environment ----------------

DEPLOYING = (
    GOOD
    + """
[environments.local.notify]
webhook_url = "${HOOK}"
[environments.local.deploy]
terraform_vars = { release = "2026.12", password = "${DB_PASSWORD}", token = "t0k3n-literal" }
sensitive_vars = ["token"]
"""
)


def test_a_value_from_a_variable_is_a_sensitive_terraform_variable() -> None:
    config, used = parse_config(
        DEPLOYING, "readiness.toml", environ={"HOOK": "https://h/x", "DB_PASSWORD": "pw-123456"}
    )
    deploy = config.environment("local").deploy
    assert deploy.sensitive_vars == ["token", "password"]
    assert deploy.public_vars() == {"release": "2026.12"}
    assert deploy.secret_vars() == {"token": "t0k3n-literal", "password": "pw-123456"}
    assert used["DB_PASSWORD"] == "pw-123456"


def test_a_sensitive_name_that_is_not_a_variable_is_an_error() -> None:
    text = DEPLOYING.replace('sensitive_vars = ["token"]', 'sensitive_vars = ["tokn"]')
    with pytest.raises(ConfigError) as info:
        parse_config(text, "readiness.toml", environ={"HOOK": "h", "DB_PASSWORD": "p"})
    assert str(info.value) == (
        "readiness.toml: environments.local.deploy: sensitive_vars names 'tokn', "
        "which is not in terraform_vars"
    )


def test_the_eager_load_still_stops_on_any_unset_variable() -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(DEPLOYING, "readiness.toml", environ={"HOOK": "h"})
    assert str(info.value) == (
        "readiness.toml: environments.local.deploy.terraform_vars.password: "
        "environment variable DB_PASSWORD is not set"
    )


def test_the_lazy_load_names_an_unset_variable_only_when_its_key_is_required() -> None:
    text = DEPLOYING + '[environments.prod.notify]\nsns_topic_arn = "${PROD_TOPIC}"\n'
    text = text.replace('account_id = "317805897534"', 'account_id = "${PROD_ACCOUNT}"')
    lazy = parse_environment(text, "readiness.toml", "local", environ={})
    env = lazy.require("account_id", "regions", "emulator", "deploy.terraform_vars.release")
    assert env.name == "local" and env.regions == ["us-east-1"]
    assert env.deploy.sensitive_vars == ["token", "password"]
    with pytest.raises(ConfigError) as info:
        lazy.require("deploy.terraform_vars.password")
    assert str(info.value) == (
        "readiness.toml: environments.local.deploy.terraform_vars.password: "
        "environment variable DB_PASSWORD is not set"
    )
    with pytest.raises(ConfigError, match=r"environments\.local\.notify\.webhook_url: .* HOOK"):
        lazy.require("notify")
    resolved = parse_environment(text, "readiness.toml", "local", environ={"DB_PASSWORD": "pw"})
    assert resolved.require("deploy.terraform_vars").deploy.secret_vars()["password"] == "pw"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            ('account_id = "123456789012"', 'account_id = "${LOCAL_ACCOUNT}"'),
            "readiness.toml: environments.local.account_id: environment variable "
            "LOCAL_ACCOUNT is not set",
        ),
        (
            ('regions = ["us-east-1"]\nemulator', 'regions = ["${REGION}"]\nemulator'),
            "readiness.toml: environments.local.regions.0: environment variable REGION is not set",
        ),
        (
            ('emulator = { seed = "demo" }', 'emulator = { seed = "demo" }\nmax_attempts = 0'),
            "readiness.toml: environments.local.max_attempts: Input should be greater than or "
            "equal to 1",
        ),
        (("[environments.local]", "[environments.other]"), "no environment 'local'"),
    ],
)
def test_the_lazy_load_still_names_what_it_cannot_do_without(
    change: tuple[str, str], expected: str
) -> None:
    text = GOOD.replace(*change)
    with pytest.raises(ConfigError) as info:
        parse_environment(text, "readiness.toml", "local", environ={})
    assert expected in str(info.value) and "\n" not in str(info.value)


def test_the_lazy_load_keeps_a_key_it_cannot_validate_aside() -> None:
    text = GOOD.replace(
        'emulator = { seed = "demo" }', 'emulator = { seed = "demo" }\nparallelism = "${P}"'
    )
    lazy = parse_environment(text, "readiness.toml", "local", environ={})
    assert lazy.unresolved == {"parallelism": "P"}
    with pytest.raises(
        ConfigError, match=r"environments\.local\.parallelism: environment variable P"
    ):
        lazy.require("parallelism")
    assert (
        parse_environment(text, "r.toml", "local", environ={"P": "4"}).environment.parallelism == 4
    )


def test_a_validation_error_hands_over_the_values_it_may_quote(tmp_path: Path) -> None:
    """A ${VAR} value read before the validation failed can be quoted in the message:
    the error carries it, and the run masks it like any value the config used."""
    from readiness.context import RunContext, RunOptions

    text = (REPO / "readiness.toml").read_text()
    text = text.replace('account_id = "123456789012"', 'account_id = "${PLAIN_ACCOUNT}"', 1)
    with pytest.raises(ConfigError) as caught:
        parse_config(text, "readiness.toml", {"PLAIN_ACCOUNT": "plain-value-9f8e7d"})
    assert caught.value.secrets == ("plain-value-9f8e7d",)
    config = tmp_path / "readiness.toml"
    config.write_text(text)
    ctx = RunContext(RunOptions(config, "local", tmp_path / "out", ["audit"]))
    with pytest.MonkeyPatch.context() as m:
        m.setenv("PLAIN_ACCOUNT", "plain-value-9f8e7d")
        assert ctx.load_configuration() is False
    assert "plain-value-9f8e7d" in ctx.secrets
    assert ctx.fatal is not None and "account_id" in ctx.fatal
