"""The post-deploy plugin: triage in the report when a post-deploy check fails.

On the controller it notes every failed (or broken) post-deploy check as reports
arrive; when the reports ask for their extra sections, a run with failures gets a
"Triage" section (recent error lines, alarms in ALARM, each service's state).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from readiness.postdeploy.triage import gather
from readiness.pytest_plugin import context

FAILED = pytest.StashKey[list[str]]()
CHECKS_DIR = "checks/postdeploy/"


def pytest_configure(config: pytest.Config) -> None:
    config.stash[FAILED] = []


@pytest.hookimpl(trylast=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    config = session.config
    if hasattr(config, "workerinput"):
        return
    config.pluginmanager.register(_Watcher(config), "readiness-postdeploy-failures")


class _Watcher:
    __slots__ = ("config",)

    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.failed and report.nodeid.replace("\\", "/").startswith(CHECKS_DIR):
            self.config.stash[FAILED].append(report.nodeid)


@pytest.hookimpl(optionalhook=True)
def pytest_readiness_sections(config: pytest.Config) -> list[dict[str, Any]]:
    failed = config.stash.get(FAILED, [])
    ctx = context(config)
    if not failed or ctx is None or ctx.env is None:
        return []
    triage = gather(ctx.snapshot, ctx.access, ctx.env, dt.datetime.now(dt.UTC))
    return [
        {
            "title": f"Triage: {len(failed)} post-deploy checks failed",
            "markdown": triage.markdown(),
            "html": triage.html(),
        }
    ]
