"""Threat detection and configuration recording, in every configured region: GuardDuty,
Security Hub and AWS Config. Each service is judged per region (one record per region:
a region without the service fails rather than drops out)."""

import pytest

from readiness.inventory.model import Resource

pytestmark = [pytest.mark.audit]


@pytest.mark.critical
@pytest.mark.check(
    id="guardduty-enabled",
    title="GuardDuty has an enabled detector in every configured region",
    category="security",
    risk="Without GuardDuty nobody is told about compromised credentials, crypto-mining, "
    "or calls from known-bad addresses in that region; attackers favour unwatched regions.",
    remediation="aws guardduty create-detector --enable --region REGION (or, if a detector "
    "exists, aws guardduty update-detector --detector-id ID --enable); terraform: "
    "aws_guardduty_detector enable = true, in every region.",
    references=["https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_settingup.html"],
)
@pytest.mark.resources("guardduty.detectors")
def test_guardduty_enabled(resource: Resource) -> None:
    detectors = resource.get("Detectors") or []
    assert detectors, f"{resource.label}: no GuardDuty detector in {resource.region}"
    enabled = [d for d in detectors if d.get("Status") == "ENABLED"]
    assert enabled, (
        f"{resource.label}: the GuardDuty detector in {resource.region} is suspended ("
        + ", ".join(f"{d.get('DetectorId')}: {d.get('Status')}" for d in detectors)
        + ")"
    )


@pytest.mark.warning
@pytest.mark.check(
    id="securityhub-enabled",
    title="Security Hub is enabled in every configured region",
    category="security",
    risk="Without Security Hub the findings of GuardDuty, Inspector and the foundational "
    "best-practice controls are not gathered and scored in one place.",
    remediation="aws securityhub enable-security-hub --enable-default-standards --region "
    "REGION  (terraform: aws_securityhub_account)",
    references=["https://docs.aws.amazon.com/securityhub/latest/userguide/securityhub-enable.html"],
)
@pytest.mark.resources("securityhub.hub")
def test_securityhub_enabled(resource: Resource) -> None:
    assert resource.get("Hub"), (
        f"{resource.label}: Security Hub is not enabled in {resource.region}"
    )


@pytest.mark.warning
@pytest.mark.check(
    id="config-recorder-recording",
    title="An AWS Config recorder is recording in every configured region",
    category="security",
    risk="Without a recording Config recorder there is no history of resource changes: "
    "no answer to 'who opened this security group, and when', no Config rules.",
    remediation="aws configservice put-configuration-recorder ... && aws configservice "
    "put-delivery-channel ... && aws configservice start-configuration-recorder "
    "--configuration-recorder-name default  (terraform: aws_config_configuration_recorder "
    "+ aws_config_configuration_recorder_status is_enabled = true)",
    references=[
        "https://docs.aws.amazon.com/config/latest/developerguide/stop-start-recorder.html"
    ],
)
@pytest.mark.resources("config.recorders")
def test_config_recorder_recording(resource: Resource) -> None:
    recorders = resource.get("Recorders") or []
    assert recorders, f"{resource.label}: no AWS Config recorder in {resource.region}"
    recording = [r for r in recorders if (r.get("Status") or {}).get("recording") is True]
    assert recording, (
        f"{resource.label}: the AWS Config recorder in {resource.region} is not recording ("
        + ", ".join(str(r.get("name")) for r in recorders)
        + ")"
    )
