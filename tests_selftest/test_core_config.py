"""readiness.toml: valid files load, every bad one gets one message naming file, key, problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from readiness.config import ConfigError, load_config, parse_config

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
