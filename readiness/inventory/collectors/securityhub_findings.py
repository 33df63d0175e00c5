"""Security Hub findings of CRITICAL or HIGH severity created in the post-deploy window.

Kind `securityhub.active_findings`: one record per region (id `securityhub`) with
`Findings`: active (RecordState ACTIVE), open (workflow NEW or NOTIFIED, or none)
findings labelled CRITICAL or HIGH and created since the window start, reduced to Id,
Title, Severity label, CreatedAt and the first resource. DescribeHub is read first: a
region where Security Hub is off is a gap (nothing can be seen), never "no findings".
The filters are sent and applied again here (moto ignores them).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from readiness.inventory.collect import CollectContext, Found, collector

KIND = "securityhub.active_findings"
LABELS = ("CRITICAL", "HIGH")
OPEN = ("NEW", "NOTIFIED")


def _created(finding: dict[str, Any]) -> dt.datetime | None:
    raw = finding.get("CreatedAt")
    if not raw:
        return None
    try:
        when = dt.datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def keep(finding: dict[str, Any], since: dt.datetime) -> bool:
    label = str((finding.get("Severity") or {}).get("Label", "")).upper()
    if label not in LABELS:
        return False
    if finding.get("RecordState", "ACTIVE") != "ACTIVE":
        return False
    status = (finding.get("Workflow") or {}).get("Status")
    if status is not None and status not in OPEN:
        return False
    created = _created(finding)
    return created is None or created >= since  # no date: count it (fail closed)


@collector(
    KIND, phases=("postdeploy",), reads=("securityhub:DescribeHub", "securityhub:GetFindings")
)
def active_findings(ctx: CollectContext, region: str) -> Iterable[Found]:
    """Security Hub CRITICAL/HIGH findings created in the window."""
    hub = ctx.fetch.call("securityhub", region, "describe_hub")
    since = ctx.window_start
    filters = {
        "SeverityLabel": [{"Value": label, "Comparison": "EQUALS"} for label in LABELS],
        "RecordState": [{"Value": "ACTIVE", "Comparison": "EQUALS"}],
        "WorkflowStatus": [{"Value": s, "Comparison": "EQUALS"} for s in OPEN],
        "CreatedAt": [{"Start": since.isoformat(), "End": ctx.now.isoformat()}],
    }
    raw = ctx.fetch.pages("securityhub", region, "get_findings", "Findings", Filters=filters)
    findings = [
        {
            "Id": f.get("Id"),
            "Title": f.get("Title"),
            "Severity": (f.get("Severity") or {}).get("Label"),
            "CreatedAt": f.get("CreatedAt"),
            "Resource": ((f.get("Resources") or [{}])[0] or {}).get("Id"),
        }
        for f in raw
        if keep(f, since)
    ]
    yield Found(
        id="securityhub",
        arn=hub.get("HubArn"),
        data={"Findings": findings, "Since": since.isoformat()},
    )


COLLECTORS = (active_findings,)
