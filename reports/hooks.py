"""Hooks other plugins implement to feed the reports; reports never import them."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.hookspec(firstresult=True)
def pytest_readiness_target(config: pytest.Config) -> dict[str, Any] | None:
    """The target of this run: environment, account, regions, endpoint, emulated, seed.

    Called on the controller. Keys: environment (str), account (str), regions (list of
    str), endpoint (str or None), emulated (bool), seed (str or None), label (str),
    kind ("embedded emulator", "custom endpoint" or "real AWS account").
    """


@pytest.hookspec(firstresult=True)
def pytest_readiness_evidence(config: pytest.Config) -> dict[str, Any] | None:
    """What the verdict rests on. Called on the controller. Keys: caller_arn (str or
    None), checks_commit (str or None), checks_dirty (bool or None), config_sha256 (str
    or None), data_source ("live", "snapshot" or None), collected_at (ISO 8601 str or
    None), snapshot_path (str or None). The verdict plugin adds the tool's version and
    the target's kind (docs/verdict-json.md, `evidence`).
    """


@pytest.hookspec
def pytest_readiness_problems(config: pytest.Config) -> list[str]:
    """Run-level problems that make the run NO-GO (bad config, wrong account, ...)."""
    return []


@pytest.hookspec
def pytest_readiness_notes(config: pytest.Config) -> list[str]:
    """Run-level notes that do not change the verdict (which credentials were used)."""
    return []


@pytest.hookspec(firstresult=True)
def pytest_readiness_not_applicable(config: pytest.Config) -> list[dict[str, Any]] | None:
    """Checks the environment declares not applicable. Called on the controller. Each
    dict: check_id, reason, owner, review (YYYY-MM-DD, UTC) and state ("in-force": the
    check's results are not-applicable; "overdue": the review date has passed, the entry
    no longer applies and the check was judged as usual)."""


@pytest.hookspec(firstresult=True)
def pytest_readiness_waiver_max_days(config: pytest.Config) -> int | None:
    """How many days ahead a waiver's `expires` may be (the configuration's cap, never
    the waiver file's); None: the default, 365."""


@pytest.hookspec
def pytest_readiness_secrets(config: pytest.Config) -> list[str]:
    """Secret values known to a plugin (credentials in use, config secrets) to mask."""
    return []


@pytest.hookspec
def pytest_readiness_sections(config: pytest.Config) -> list[dict[str, str]]:
    """Extra report sections: dicts with title, and any of text, markdown, html."""
    return []


@pytest.hookspec
def pytest_readiness_if_unfinished(config: pytest.Config, lines: list[str]) -> None:
    """Called by a plugin when the run has made something a reader must act on should
    the run never finish (a deploy's rollback command): the verdict plugin puts the
    lines into the NO-GO summary.md that stands until the run replaces it."""
