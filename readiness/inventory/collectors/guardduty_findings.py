"""GuardDuty findings of high severity created in the post-deploy window.

Kind `guardduty.high_findings`: one record per region (id `guardduty`) with `Detectors`
(the region's detector ids: empty means GuardDuty is off there and nothing can be
seen) and `Findings`: every finding of severity >= 7, not archived, created since the
window start, as GetFindings returns it (ListFindings page by page, then GetFindings
50 at a time) reduced to Id, Type, Title, Severity, CreatedAt and the detector.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from readiness.inventory.collect import CollectContext, Found, collector

KIND = "guardduty.high_findings"
HIGH_SEVERITY = 7
BATCH = 50


def _criteria(ctx: CollectContext) -> dict[str, Any]:
    since_ms = int(ctx.window_start.timestamp() * 1000)
    return {
        "Criterion": {
            "severity": {"GreaterThanOrEqual": HIGH_SEVERITY},
            "createdAt": {"GreaterThanOrEqual": since_ms},
            "service.archived": {"Equals": ["false"]},
        }
    }


def _findings(ctx: CollectContext, region: str, detector: str) -> list[dict[str, Any]]:
    ids = ctx.fetch.pages(
        "guardduty",
        region,
        "list_findings",
        "FindingIds",
        DetectorId=detector,
        FindingCriteria=_criteria(ctx),
    )
    out: list[dict[str, Any]] = []
    for start in range(0, len(ids), BATCH):
        answer = ctx.fetch.call(
            "guardduty",
            region,
            "get_findings",
            DetectorId=detector,
            FindingIds=ids[start : start + BATCH],
        )
        for finding in answer.get("Findings") or []:
            if float(finding.get("Severity", 0)) < HIGH_SEVERITY:
                continue  # the criteria are applied again: never trust a filter blindly
            if ((finding.get("Service") or {}).get("Archived")) is True:
                continue
            out.append(
                {
                    "Id": finding.get("Id"),
                    "Type": finding.get("Type"),
                    "Title": finding.get("Title"),
                    "Severity": finding.get("Severity"),
                    "CreatedAt": finding.get("CreatedAt"),
                    "DetectorId": detector,
                }
            )
    return out


@collector(
    KIND,
    phases=("postdeploy",),
    reads=("guardduty:GetFindings", "guardduty:ListDetectors", "guardduty:ListFindings"),
)
def high_findings(ctx: CollectContext, region: str) -> Iterable[Found]:
    """GuardDuty findings of severity 7 or more created in the window."""
    detectors = [
        str(d) for d in ctx.fetch.pages("guardduty", region, "list_detectors", "DetectorIds")
    ]
    findings: list[dict[str, Any]] = []
    for detector in detectors:
        findings.extend(_findings(ctx, region, detector))
    since = ctx.window_start.isoformat()
    yield Found(
        id="guardduty",
        data={"Detectors": detectors, "Findings": findings, "Since": since},
    )


COLLECTORS = (high_findings,)
