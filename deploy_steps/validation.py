"""Phase 3 and Phase 4 validations: the audit's security and monitoring criteria on the
applied state, the rate limiter, and the canaries.

Phase 3 runs the audit's own checks (no copy of them) as a child pytest session
restricted to `checks/audit/security` and `checks/audit/monitoring`, against the same
target (an emulator is shared through READINESS_EMULATOR_*), and trusts its exit code
only when it equals that run's verdict.json.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, final

from botocore.exceptions import BotoCoreError, ClientError

from deploy_steps.gate import judge
from deploy_steps.probe import fetch_status
from readiness.aws.access import AwsAccess
from readiness.aws.guard import declare
from readiness.config import RateLimit
from readiness.emulator.process import ATTACH_APP_URL, ATTACH_ENDPOINT, ATTACH_SEED
from readiness.files import make_dirs, write_atomic

AUDIT_CATEGORIES = ("security", "monitoring")
# What Phase 4 sends itself (the audit it re-runs in Phase 3 reads with the audit's list).
CANARY_READS = declare("Phase 4 canaries", ("synthetics:DescribeCanariesLastRun",))
UNAVAILABLE_CODES = frozenset(
    {
        "404",
        "NotImplemented",
        "UnknownOperationException",
        "InvalidAction",
        "AccessDenied",
        "AccessDeniedException",
        "UnrecognizedClientException",
    }
)


@final
@dataclass(slots=True)
class AuditRerun:
    exit_code: int
    trusted: bool
    reason: str
    failing: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    report_dir: Path | None = None


def rerun_audit(
    *,
    rootdir: Path,
    report_dir: Path,
    env_name: str,
    config_path: Path | None,
    attach: dict[str, str],
    say: Callable[[str], None],
    timeout_s: float,
) -> AuditRerun:
    run_id = uuid.uuid4().hex[:12]
    folders = [f"checks/audit/{c}" for c in AUDIT_CATEGORIES]
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        "-m",
        "audit",
        "--allow-partial",
        f"--report-dir={report_dir}",
        "--env",
        env_name,
        "-q",
    ]
    if config_path is not None:
        command.append(f"--config={config_path}")
    child_env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    child_env.update(attach, READINESS_RUN_ID=run_id)
    make_dirs(report_dir)
    say(f"phase 3: the audit's {' and '.join(AUDIT_CATEGORIES)} criteria on the applied state")
    try:
        done = subprocess.run(
            command + folders,
            cwd=rootdir,
            env=child_env,
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )
        code = done.returncode
        write_atomic(report_dir / "pytest.log", done.stdout + done.stderr)
    except subprocess.TimeoutExpired:
        return AuditRerun(2, False, f"the audit re-run took longer than {timeout_s:.0f} s")
    result = judge(code, report_dir / "verdict.json", run_id)
    rerun = AuditRerun(result.exit_code, result.trusted, result.reason, report_dir=report_dir)
    for row in (result.verdict or {}).get("results", []) or []:
        if not isinstance(row, dict) or row.get("outcome") in ("passed", "not-applicable"):
            continue
        if row.get("outcome") == "waived":
            continue
        name = f"{row.get('check_id', row.get('nodeid', '?'))} {row.get('resource', '')}".strip()
        text = f"{name}: {row.get('outcome')}"
        (rerun.failing if row.get("severity") == "critical" else rerun.warnings).append(text)
    return rerun


def attach_variables(emulator: Any) -> dict[str, str]:
    if emulator is None:
        return {}
    return {
        ATTACH_ENDPOINT: str(emulator.endpoint),
        ATTACH_APP_URL: str(getattr(emulator, "app_url", "") or ""),
        ATTACH_SEED: str(getattr(emulator, "seed", "") or ""),
    }


# -- the rate limiter --------------------------------------------------------------------


@final
@dataclass(slots=True)
class RateLimitResult:
    normal: dict[int, int]
    burst: dict[int, int]

    @property
    def problems(self) -> list[str]:
        out = []
        bad_normal = {s: n for s, n in self.normal.items() if s != 200}
        if bad_normal:
            out.append(f"normal traffic was not all served: {_counts(self.normal)}")
        if self.burst.get(429, 0) == 0:
            out.append(f"a burst beyond the limit saw no throttling (429): {_counts(self.burst)}")
        others = {s: n for s, n in self.burst.items() if s not in (200, 429)}
        if others:
            out.append(f"the burst got answers other than 200 or 429: {_counts(self.burst)}")
        if self.burst.get(200, 0) == 0:
            out.append(f"the burst had no request served at all: {_counts(self.burst)}")
        return out

    def summary(self) -> str:
        return f"normal {_counts(self.normal)}; burst {_counts(self.burst)}"


def _counts(statuses: dict[int, int]) -> str:
    return ", ".join(f"{n}x {s or 'no answer'}" for s, n in sorted(statuses.items())) or "none"


def probe_rate_limit(url: str, limit: RateLimit, timeout_s: float = 5.0) -> RateLimitResult:
    """Normal traffic (half the limit) must pass; a burst beyond it must be throttled."""
    normal: dict[int, int] = {}
    # Let the bucket refill from anything that came before.
    time.sleep(min(2.0, limit.burst_requests / limit.limit_per_second))
    gap = 2.0 / limit.limit_per_second
    for _ in range(limit.normal_requests):
        status = fetch_status(url, timeout_s)
        normal[status] = normal.get(status, 0) + 1
        time.sleep(gap)
    time.sleep(1.0)
    burst: dict[int, int] = {}
    pool = ThreadPoolExecutor(max_workers=min(limit.burst_requests, 16))
    try:
        for status in pool.map(lambda _: fetch_status(url, timeout_s), range(limit.burst_requests)):
            burst[status] = burst.get(status, 0) + 1
    finally:
        # An interrupt or a timeout must not wait for the requests still queued.
        pool.shutdown(wait=False, cancel_futures=True)
    return RateLimitResult(normal, burst)


# -- canaries ----------------------------------------------------------------------------


class CanariesUnavailable(Exception):
    """The canaries' runs cannot be read; the check is not-evaluated."""


def _last_runs(aws: AwsAccess, names: list[str]) -> dict[str, dict[str, Any]]:
    client = aws.client("synthetics")
    try:
        answer = client.describe_canaries_last_run(Names=names)
    except ClientError as exc:
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        status = str(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", ""))
        if code in UNAVAILABLE_CODES or status in ("404", "501"):
            raise CanariesUnavailable(
                f"DescribeCanariesLastRun is not available here ({code or status}): "
                "no canary run data to judge"
            ) from None
        raise CanariesUnavailable(
            f"DescribeCanariesLastRun: {code}: {error.get('Message')}"
        ) from None
    except BotoCoreError as exc:
        raise CanariesUnavailable(f"DescribeCanariesLastRun: {exc}") from None
    out: dict[str, dict[str, Any]] = {}
    for entry in answer.get("CanariesLastRun", []) or []:
        run = entry.get("LastRun") or {}
        out[str(entry.get("CanaryName"))] = dict(run)
    return out


def _state(run: dict[str, Any]) -> tuple[str, dt.datetime | None]:
    status = (run.get("Status") or {}).get("State", "")
    timeline = run.get("Timeline") or {}
    when = timeline.get("Completed") or timeline.get("Started")
    return str(status), when if isinstance(when, dt.datetime) else None


def canaries_green(
    aws: AwsAccess,
    names: list[str],
    *,
    within_minutes: int,
    since: float,
    poll_s: float,
    say: Callable[[str], None],
    not_before: dt.datetime | None = None,
) -> tuple[list[str], list[str]]:
    """Wait (bounded) until every canary's last run passed; returns (green, problems).

    With `not_before` (a real account: the deploy's start) only a run that started
    after it counts; the emulator's planted runs are judged as they are.
    """
    deadline = since + within_minutes * 60
    while True:
        runs = _last_runs(aws, names)
        problems: list[str] = []
        green: list[str] = []
        for name in names:
            run = runs.get(name)
            if run is None:
                problems.append(f"canary {name}: no run found")
                continue
            state, when = _state(run)
            stamp = f" at {when.isoformat()}" if when else ""
            if not_before is not None and (when is None or when < not_before):
                problems.append(f"canary {name}: no run since the deploy started{stamp}")
            elif state == "PASSED":
                green.append(f"canary {name}: PASSED{stamp}")
            else:
                problems.append(f"canary {name}: last run {state or 'unknown'}{stamp}")
        if not problems or time.monotonic() >= deadline:
            return green, problems
        say(f"phase 4: waiting for canaries ({'; '.join(problems)})")
        time.sleep(min(poll_s, max(deadline - time.monotonic(), 0.1)))
