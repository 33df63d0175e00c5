"""Which AWS credentials a run uses: a named profile, or the ambient credential chain.

The order, first that applies:

1. `--profile NAME` on the command line;
2. the environment variable `READINESS_PROFILE`;
3. the environment's `profile` in readiness.toml, when the AWS config or credentials
   file defines it;
4. the ambient chain: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN,
   AWS_ROLE_ARN with AWS_WEB_IDENTITY_TOKEN_FILE, AWS_PROFILE, a container or instance
   role.

An explicit profile (1 or 2) that no file defines is an error naming it; an explicit
empty value means the ambient chain. A configured profile that no file defines (a CI
runner has no ~/.aws) gives way to the ambient chain, and the run says so once.
`role_arn` is assumed from whichever of these the run uses.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import final

import botocore.session
from botocore.exceptions import BotoCoreError

from readiness.config import ConfigError, Environment

PROFILE_VARIABLE = "READINESS_PROFILE"
PROFILE_OPTION = "--profile"
AMBIENT = "the ambient AWS credentials"
_AMBIENT_SOURCES = "environment variables, web identity token, container or instance role"
_KNOWN_SHOWN = 5


class ProfileError(ConfigError):
    """A profile asked for explicitly is not defined, or the AWS config files are unreadable."""


class CredentialsNotFound(Exception):
    """No credentials to start from (to assume the environment's role with)."""


@final
@dataclass(frozen=True, slots=True)
class CredentialSource:
    """The credentials a run starts from, what chose them, and what the run should say."""

    profile: str | None
    """The profile to load; None for the ambient chain."""
    chosen_by: str
    """`--profile`, `READINESS_PROFILE`, `readiness.toml`, `ambient` or `emulator`."""
    note: str | None = None
    """One line for the run's notes when the configured profile is not the one used."""

    def describe(self) -> str:
        if self.profile is None:
            return AMBIENT if self.chosen_by != "emulator" else "the emulator's static keys"
        return f"profile {self.profile!r} ({self.chosen_by})"


@final
@dataclass(frozen=True, slots=True)
class DefinedProfiles:
    """The profiles the AWS config and credentials files define, and where they are."""

    names: frozenset[str]
    files: str

    @classmethod
    def read(cls) -> DefinedProfiles:
        session = botocore.session.Session()
        files = (
            f"{session.get_config_variable('config_file')} or "
            f"{session.get_config_variable('credentials_file')}"
        )
        try:
            names = frozenset(session.available_profiles)
        except BotoCoreError as exc:
            raise ProfileError(f"the AWS config files ({files}) cannot be read: {exc}") from None
        return cls(names, files)

    def known(self) -> str:
        if not self.names:
            return "no profile is defined"
        shown = sorted(self.names)[:_KNOWN_SHOWN]
        more = len(self.names) - len(shown)
        return "defined: " + ", ".join(shown) + (f" and {more} more" if more else "")


def choose_credentials(
    env: Environment, option: str | None = None, environ: Mapping[str, str] | None = None
) -> CredentialSource:
    """The credential source for `env`, by the order in this module's docstring.

    `option` is the value of `--profile` (None when not given). Raises ProfileError for
    an explicit profile that is not defined, naming it and where it was looked for."""
    environ = os.environ if environ is None else environ
    if env.emulated:
        ignored = (
            f"{PROFILE_OPTION} {option!r} is not used: environment {env.name!r} runs on the "
            "embedded emulator"
        )
        return CredentialSource(None, "emulator", ignored if option else None)
    if option is not None:
        return _explicit(env, option, PROFILE_OPTION, f"{PROFILE_OPTION} {option.strip()!r}")
    if PROFILE_VARIABLE in environ:
        value = environ[PROFILE_VARIABLE]
        return _explicit(env, value, PROFILE_VARIABLE, f"{PROFILE_VARIABLE}={value.strip()!r}")
    configured = env.profile
    if configured is None:
        return CredentialSource(None, "ambient")
    defined = DefinedProfiles.read()
    if configured in defined.names:
        return CredentialSource(configured, "readiness.toml")
    return CredentialSource(
        None,
        "ambient",
        f"profile {configured!r} of environment {env.name!r} is not defined in "
        f"{defined.files}: the run uses {AMBIENT} ({_AMBIENT_SOURCES})",
    )


def _explicit(env: Environment, value: str, chosen_by: str, label: str) -> CredentialSource:
    name = value.strip()
    configured = env.profile
    if not name:
        note = (
            f"{chosen_by} is empty: the run uses {AMBIENT}, not profile {configured!r} of "
            f"environment {env.name!r}"
            if configured is not None
            else None
        )
        return CredentialSource(None, chosen_by, note)
    defined = DefinedProfiles.read()
    if name not in defined.names:
        raise ProfileError(
            f"{label}: no such AWS profile in {defined.files} ({defined.known()}); "
            f"set {chosen_by} empty to use {AMBIENT}"
        )
    note = (
        f"{chosen_by}: the run uses profile {name!r}, not profile {configured!r} of "
        f"environment {env.name!r}"
        if configured is not None and configured != name
        else None
    )
    return CredentialSource(name, chosen_by, note)
