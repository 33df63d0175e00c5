"""Security incidents since the window started: no high-severity GuardDuty finding and
no critical or high Security Hub finding."""

import pytest

from readiness.inventory.model import NotEvaluated, Resource

pytestmark = [pytest.mark.postdeploy]


@pytest.mark.critical
@pytest.mark.check(
    id="guardduty-no-high-findings",
    title="No GuardDuty finding of severity 7 or more since the window started",
    category="security",
    risk="A high-severity finding after a deploy is a security incident: the change may "
    "have opened the door.",
    remediation="Open the finding in GuardDuty; follow the incident runbook; roll back "
    "the change that exposed the resource.",
    references=["https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_findings-severity.html"],
)
@pytest.mark.resources("guardduty.high_findings")
def test_guardduty_no_high_findings(resource: Resource) -> None:
    if not resource.get("Detectors"):
        raise NotEvaluated(f"{resource.label}: GuardDuty is not enabled: incidents are unseen")
    findings = resource.get("Findings") or []
    shown = "; ".join(
        f"{f.get('Type')} (severity {f.get('Severity')}, {f.get('CreatedAt')}): {f.get('Title')}"
        for f in findings[:3]
    )
    assert not findings, f"{resource.label}: {len(findings)} high-severity findings: {shown}"


@pytest.mark.critical
@pytest.mark.check(
    id="securityhub-no-critical-findings",
    title="No active CRITICAL or HIGH Security Hub finding created since the window started",
    category="security",
    risk="A new critical or high finding after a deploy means the change weakened a control.",
    remediation="Open the finding in Security Hub, fix the resource or roll back the change.",
    references=[
        "https://docs.aws.amazon.com/securityhub/latest/userguide/securityhub-findings.html"
    ],
)
@pytest.mark.resources("securityhub.active_findings")
def test_securityhub_no_critical_findings(resource: Resource) -> None:
    findings = resource.get("Findings")
    if findings is None:
        raise NotEvaluated(f"{resource.label}: Security Hub findings were not read")
    shown = "; ".join(
        f"{f.get('Severity')} {f.get('Title')} on {f.get('Resource')}" for f in findings[:3]
    )
    assert not findings, f"{resource.label}: {len(findings)} new findings: {shown}"
