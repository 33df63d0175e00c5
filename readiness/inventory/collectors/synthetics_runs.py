"""CloudWatch Synthetics canaries as the post-deploy windows judge them.

Kind `synthetics.canary_health`: one record per canary (id = canary name) holding
DescribeCanaries' entry plus, each read separately (unreadable → that field only is
not-evaluated):
- `LastRun`: the canary's newest run (DescribeCanariesLastRun, every page), None if
  it never ran;
- `Runs`: its runs in the window, read page by page (GetCanaryRuns, 100 a page, newest
  first) until a run older than the window: `{"Total", "Failed", "Passed", "Pages",
  "FailedRuns": [up to 5 {"Started", "Reason"}]}`;
- `SuccessPercent`: datapoints of `CloudWatchSynthetics/SuccessPercent` for the canary
  over the window (see metrics.window_series).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from readiness.aws.errors import FailureKind, FetchError
from readiness.inventory.collect import CollectContext, Found, collector, tag_dict
from readiness.inventory.collectors.metrics import window_series

KIND = "synthetics.canary_health"
RUNS_PAGE = 100
MAX_PAGES = 50  # 5000 runs: a canary every minute for three days
FAILED_KEPT = 5


def token_pages(
    ctx: CollectContext,
    service: str,
    region: str,
    operation: str,
    result_key: str,
    max_pages: int = MAX_PAGES,
    **params: Any,
) -> Iterable[list[Any]]:
    """Pages of an operation botocore cannot paginate, by NextToken (each page memoised)."""
    token: str | None = None
    for _ in range(max_pages):
        extra = {"NextToken": token} if token else {}
        page = ctx.fetch.call(service, region, operation, **params, **extra)
        yield list(page.get(result_key) or [])
        token = page.get("NextToken") or None
        if token is None:
            return
    raise FetchError(
        FailureKind.FAILED, f"{service}:{operation}", f"more than {max_pages} pages: stopped"
    )


def _runs_in_window(ctx: CollectContext, region: str, name: str) -> dict[str, Any]:
    start = ctx.window_start.isoformat()
    total = passed = failed = pages = 0
    failed_runs: list[dict[str, Any]] = []
    for page in token_pages(
        ctx, "synthetics", region, "get_canary_runs", "CanaryRuns", Name=name, MaxResults=RUNS_PAGE
    ):
        pages += 1
        older = False
        for run in page:
            started = str((run.get("Timeline") or {}).get("Started") or "")
            if not started or started < start:
                older = True
                continue
            state = (run.get("Status") or {}).get("State")
            total += 1
            if state == "PASSED":
                passed += 1
            elif state == "FAILED":
                failed += 1
                if len(failed_runs) < FAILED_KEPT:
                    reason = (run.get("Status") or {}).get("StateReason", "")
                    failed_runs.append({"Started": started, "Reason": reason})
        if older:  # newest first: the rest of the history is older than the window
            break
    return {
        "Total": total,
        "Passed": passed,
        "Failed": failed,
        "Pages": pages,
        "FailedRuns": failed_runs,
    }


def _last_runs(ctx: CollectContext, region: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for page in token_pages(
        ctx, "synthetics", region, "describe_canaries_last_run", "CanariesLastRun"
    ):
        for entry in page:
            out[str(entry.get("CanaryName"))] = entry.get("LastRun")
    return out


@collector(
    KIND,
    phases=("postdeploy",),
    reads=(
        "cloudwatch:GetMetricStatistics",
        "synthetics:DescribeCanaries",
        "synthetics:DescribeCanariesLastRun",
        "synthetics:GetCanaryRuns",
    ),
)
def canary_health(ctx: CollectContext, region: str) -> Iterable[Found]:
    """Canaries with their last run, runs and SuccessPercent over the window."""
    canaries = [
        c
        for page in token_pages(ctx, "synthetics", region, "describe_canaries", "Canaries")
        for c in page
    ]

    def read(canary: dict[str, Any]) -> Found:
        name = str(canary["Name"])
        found = Found(
            id=name,
            arn=None,
            data={**canary, "WindowHours": ctx.window_hours},
            tags=tag_dict(canary.get("Tags")) if canary.get("Tags") is not None else None,
        )
        found.enrich("LastRun", lambda: _last_runs(ctx, region).get(name))
        found.enrich("Runs", lambda: _runs_in_window(ctx, region, name))
        found.enrich(
            "SuccessPercent",
            lambda: window_series(
                ctx,
                region,
                "CloudWatchSynthetics",
                "SuccessPercent",
                {"CanaryName": name},
                ("Average", "SampleCount"),
            ),
        )
        return found

    return ctx.each(canaries, read)


COLLECTORS = (canary_health,)
