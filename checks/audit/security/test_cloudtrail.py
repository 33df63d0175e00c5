"""CloudTrail: the account has a trail that records every region (a multi-region trail),
is logging now, records the management events that change things (write events), and
signs its log files (log-file validation).

Judged once per account over the trails of every configured region; a multi-region
trail shows up in each region as a shadow copy, so it is counted once (by ARN), with
the status read in its home region.
"""

from typing import Any

import pytest

from readiness.inventory.model import UNAVAILABLE, NotEvaluated, Resource, Snapshot

pytestmark = [pytest.mark.audit]
TRAILS = "cloudtrail.trails"
CT_DOCS = "https://docs.aws.amazon.com/awscloudtrail/latest/userguide"


def _records_writes(selector: dict[str, Any]) -> bool:
    """A basic event selector that takes management write events (AWS's defaults when a
    field is absent: all management events, read and write)."""
    return selector.get("IncludeManagementEvents", True) is not False and selector.get(
        "ReadWriteType", "All"
    ) in ("All", "WriteOnly")


def _advanced_records_writes(selector: dict[str, Any]) -> bool:
    """An advanced selector on management events that does not keep only the reads."""
    fields = {
        f.get("Field"): f for f in selector.get("FieldSelectors") or [] if isinstance(f, dict)
    }
    category = fields.get("eventCategory") or {}
    if "Management" not in (category.get("Equals") or []):
        return False
    read_only = fields.get("readOnly") or {}
    return not (
        "true" in (read_only.get("Equals") or []) or "false" in (read_only.get("NotEquals") or [])
    )


def records_management_writes(selectors: Any) -> bool:
    """Whether GetEventSelectors' answer takes management write events (fail closed:
    an answer of another shape records nothing we can vouch for)."""
    if not isinstance(selectors, dict):
        return False
    basic = [s for s in selectors.get("EventSelectors") or [] if isinstance(s, dict)]
    advanced = [s for s in selectors.get("AdvancedEventSelectors") or [] if isinstance(s, dict)]
    return any(map(_records_writes, basic)) or any(map(_advanced_records_writes, advanced))


def trail_problems(trail: Resource) -> list[str]:
    """What keeps this trail from being the account's audit trail (empty: nothing)."""
    problems = []
    if trail.get("IsMultiRegionTrail") is not True:
        problems.append("single-region")
    if trail.get("LogFileValidationEnabled") is not True:
        problems.append("no log-file validation")
    status = trail.need("Status")
    if not isinstance(status, dict) or status.get("IsLogging") is not True:
        problems.append("not logging")
    if not records_management_writes(trail.need("EventSelectors")):
        problems.append("no management write events recorded")
    return problems


def with_status(inventory: Snapshot) -> dict[str, Resource]:
    """Each trail once, by ARN: the record that carries (or failed to read) its status."""
    chosen: dict[str, Resource] = {}
    for trail in inventory.resources(TRAILS):
        key = trail.arn or trail.id
        if "Status" in trail.data or "Status" in trail.data.get(UNAVAILABLE, {}):
            chosen[key] = trail
        else:
            chosen.setdefault(key, trail)
    return chosen


@pytest.mark.critical
@pytest.mark.check(
    id="cloudtrail-multi-region-logging",
    title="A multi-region CloudTrail trail is logging management events, with log-file validation",
    category="security",
    risk="Without a trail recording every region's management events, API activity (an "
    "attacker's included) leaves no record; without validation, logs can be altered "
    "unnoticed.",
    remediation="aws cloudtrail create-trail --name org-trail --s3-bucket-name BUCKET "
    "--is-multi-region-trail --enable-log-file-validation && aws cloudtrail start-logging "
    "--name org-trail; a trail whose event selectors leave out management write events: "
    "aws cloudtrail put-event-selectors --trail-name org-trail --event-selectors "
    '\'[{"ReadWriteType": "All", "IncludeManagementEvents": true}]\'  (terraform: '
    "aws_cloudtrail is_multi_region_trail = true, enable_log_file_validation = true, "
    'enable_logging = true, event_selector { read_write_type = "All", '
    "include_management_events = true })",
    references=[
        f"{CT_DOCS}/cloudtrail-create-and-update-a-trail.html",
        f"{CT_DOCS}/cloudtrail-log-file-validation-intro.html",
        f"{CT_DOCS}/logging-management-events-with-cloudtrail.html",
    ],
)
@pytest.mark.resources("sts.identity")
def test_cloudtrail_multi_region_logging(resource: Resource, inventory: Snapshot) -> None:
    gaps = inventory.gaps(TRAILS)  # NotEvaluated if the kind was not collected
    found: list[str] = []
    unknown: list[str] = []
    for trail in with_status(inventory).values():
        try:
            problems = trail_problems(trail)
        except NotEvaluated as exc:
            unknown.append(str(exc))
            continue
        if not problems:
            return
        found.append(f"{trail.id} ({', '.join(problems)})")
    if gaps or unknown:
        raise NotEvaluated("; ".join([g.message() for g in gaps] + unknown))
    listed = "; ".join(found) if found else "no trail at all"
    raise AssertionError(
        f"account {resource.label} has no multi-region trail that is logging management "
        f"events with log-file validation: {listed}"
    )
