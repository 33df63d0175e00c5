"""Hooks other plugins implement to feed the reports; reports never import them."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.hookspec(firstresult=True)
def pytest_readiness_target(config: pytest.Config) -> dict[str, Any] | None:
    """The target of this run: environment, account, regions, endpoint, emulated, seed.

    Called on the controller. Keys: environment (str), account (str), regions (list of
    str), endpoint (str or None), emulated (bool), seed (str or None), label (str).
    """


@pytest.hookspec
def pytest_readiness_problems(config: pytest.Config) -> list[str]:
    """Run-level problems that make the run NO-GO (bad config, wrong account, ...)."""
    return []


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
