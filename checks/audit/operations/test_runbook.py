"""Someone knows what to do: a runbook and an on-call contact for the environment.

`runbook_url` is either an http(s) URL (accepted as given, never fetched) or a path
relative to the folder of readiness.toml (the repository), which must exist.
"""

from pathlib import Path

import pytest

from readiness.config import Environment
from readiness.context import RunContext

pytestmark = [pytest.mark.audit, pytest.mark.warning]


@pytest.mark.check(
    id="runbook-configured",
    title="The environment names a runbook, and a runbook in the repository exists",
    category="operations",
    risk="During a failed deploy or an incident, the person on call improvises instead of "
    "following known steps.",
    remediation="Set runbook_url in readiness.toml for the environment: an https:// URL or "
    "a path in this repository such as docs/runbook.md.",
    references=["https://sre.google/sre-book/being-on-call/"],
)
def test_runbook_configured(environment: Environment, run_context: RunContext) -> None:
    runbook = (environment.runbook_url or "").strip()
    assert runbook, f"environment {environment.name} has no runbook_url"
    if runbook.startswith(("https://", "http://")):
        return
    path = Path(runbook)
    assert not path.is_absolute() and ".." not in path.parts, (
        f"environment {environment.name}: runbook_url {runbook} must be a URL or a path "
        "inside the repository"
    )
    repository = run_context.options.config_path.parent
    assert (repository / path).is_file(), (
        f"environment {environment.name}: runbook {runbook} does not exist in the repository"
    )


@pytest.mark.check(
    id="on-call-configured",
    title="The environment names an on-call contact",
    category="operations",
    risk="Alarms and a failed deploy need a person: without a named contact, nobody is "
    "paged, or everybody is.",
    remediation="Set on_call in readiness.toml for the environment (a rota, a channel, an "
    "e-mail address).",
    references=["https://sre.google/sre-book/being-on-call/"],
)
def test_on_call_configured(environment: Environment) -> None:
    assert (environment.on_call or "").strip(), f"environment {environment.name} has no on_call"
