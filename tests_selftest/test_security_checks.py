"""The security criteria on the emulator: for each, a compliant and a violating resource,
read by the real collectors (two regions) and judged by the real check functions; reads
that fail (access denied) turn into not-evaluated, never into a pass; the reads are
made once each and none of them writes."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from readiness.aws.access import AwsAccess, _strip_account_host
from readiness.config import Thresholds
from readiness.emulator import EmulatorProcess
from readiness.emulator.control import EmulatorControl
from readiness.emulator.seeds import Stack as SeedStack
from readiness.emulator.seeds.security import create_hardened_bucket
from readiness.inventory.collectors import by_kind
from readiness.inventory.model import Resource, Target
from readiness.inventory.runner import take_snapshot

from .test_data_support import (
    Taken,
    checks_of,
    deny,
    environment,
    load_checks,
    outcome,
    snapshot,
)

EAST, WEST = "us-east-1", "us-west-2"
ACCOUNT = "123456789012"
ENV = environment(regions=(EAST, WEST))
KINDS = (
    "iam.account_summary",
    "iam.password_policy",
    "iam.users",
    "cloudtrail.trails",
    "guardduty.detectors",
    "securityhub.hub",
    "config.recorders",
    "s3.account_public_access_block",
    "s3.buckets",
    "ec2.security_groups",
    "ec2.vpcs",
    "ec2.ebs_encryption_by_default",
    "kms.keys",
    "secretsmanager.secrets",
)
MODULES = tuple(
    f"audit/security/test_{name}.py"
    for name in ("iam", "cloudtrail", "detection", "s3", "network", "kms", "secrets")
)
FULL_PAB = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": True,
}
DENIED = (
    ("iam", "GetAccountSummary"),
    ("iam", "ListAccessKeys"),
    ("cloudtrail", "GetTrailStatus"),
    ("guardduty", "ListDetectors"),
    ("securityhub", "DescribeHub"),
    ("s3control", "GetPublicAccessBlock"),
    ("s3", "GetBucketVersioning"),
    ("kms", "GetKeyRotationStatus"),
    ("ec2", "DescribeSecurityGroups"),
)


@dataclass
class World:
    before: Taken  # nothing set up at account level
    after: Taken  # root MFA, policy, account PAB, a multi-region trail
    denied: Taken
    checks: dict[str, Any]
    ids: dict[str, str]

    def judge(self, check: str, resource: Resource, taken: Taken | None = None) -> tuple[str, str]:
        extra: dict[str, Any] = {}
        function = self.checks[check]
        names = function.__code__.co_varnames[: function.__code__.co_argcount]
        if "inventory" in names:
            extra["inventory"] = (taken or self.after).snapshot
        if "thresholds" in names:
            extra["thresholds"] = Thresholds()
        return outcome(function, resource=resource, **extra)


def _account_level_off(control: EmulatorControl) -> None:
    control.call("iam-root-account", mfa=False, access_keys=True)
    control.client("cloudtrail", WEST).create_trail(
        Name="single-trail", S3BucketName="trail-bucket-sec", EnableLogFileValidation=True
    )
    control.client("cloudtrail", WEST).start_logging(Name="single-trail")
    # Everything right but what it records: reads only, no management write events.
    reads = control.client("cloudtrail", WEST)
    reads.create_trail(
        Name="reads-only-trail",
        S3BucketName="trail-bucket-sec",
        IsMultiRegionTrail=True,
        EnableLogFileValidation=True,
    )
    reads.put_event_selectors(
        TrailName="reads-only-trail",
        EventSelectors=[{"ReadWriteType": "ReadOnly", "IncludeManagementEvents": True}],
    )
    reads.start_logging(Name="reads-only-trail")


def _account_level_on(control: EmulatorControl) -> None:
    control.call("iam-root-account", mfa=True, access_keys=False)
    control.client("iam").update_account_password_policy(
        MinimumPasswordLength=16,
        RequireSymbols=True,
        RequireNumbers=True,
        RequireUppercaseCharacters=True,
        RequireLowercaseCharacters=True,
    )
    s3control = control.client("s3control")
    s3control.meta.events.register("before-send.s3-control", _strip_account_host)
    s3control.put_public_access_block(AccountId=ACCOUNT, PublicAccessBlockConfiguration=FULL_PAB)
    trail = control.client("cloudtrail", EAST)
    trail.create_trail(
        Name="org-trail",
        S3BucketName="trail-bucket-sec",
        IsMultiRegionTrail=True,
        EnableLogFileValidation=True,
    )
    trail.start_logging(Name="org-trail")


def _regional(control: EmulatorControl, ids: dict[str, str]) -> None:
    control.client("guardduty", EAST).create_detector(Enable=True)
    control.client("securityhub", EAST).enable_security_hub()
    for region, start in ((EAST, True), (WEST, False)):
        config = control.client("config", region)
        config.put_configuration_recorder(
            ConfigurationRecorder={"name": "default", "roleARN": f"arn:aws:iam::{ACCOUNT}:role/c"}
        )
        config.put_delivery_channel(
            DeliveryChannel={"name": "default", "s3BucketName": "trail-bucket-sec"}
        )
        if start:
            config.start_configuration_recorder(ConfigurationRecorderName="default")
    control.client("ec2", EAST).enable_ebs_encryption_by_default()


def _iam_users(control: EmulatorControl) -> None:
    iam = control.client("iam")
    for user in ("fresh-user", "stale-user", "retired-user"):
        iam.create_user(UserName=user)
    iam.create_access_key(UserName="fresh-user")
    stale = iam.create_access_key(UserName="stale-user")["AccessKey"]["AccessKeyId"]
    control.call("iam-access-key-created", user="stale-user", access_key_id=stale, days_ago=200)
    retired = iam.create_access_key(UserName="retired-user")["AccessKey"]["AccessKeyId"]
    control.call("iam-access-key-created", user="retired-user", access_key_id=retired, days_ago=400)
    iam.update_access_key(UserName="retired-user", AccessKeyId=retired, Status="Inactive")


def _buckets(control: EmulatorControl) -> None:
    stack = SeedStack(variant="demo", control=control, app_url="")
    create_hardened_bucket(stack, "good-bucket-sec", EAST)
    create_hardened_bucket(stack, "trail-bucket-sec", EAST)
    control.client("s3", WEST).create_bucket(
        Bucket="bare-bucket-sec", CreateBucketConfiguration={"LocationConstraint": WEST}
    )


def _network(control: EmulatorControl, ids: dict[str, str]) -> None:
    ec2 = control.client("ec2", WEST)
    vpc = ec2.create_vpc(CidrBlock="10.30.0.0/16")["Vpc"]["VpcId"]
    ids["logged-vpc"] = vpc
    ids["dark-vpc"] = ec2.create_vpc(CidrBlock="10.31.0.0/16")["Vpc"]["VpcId"]
    control.client("logs", WEST).create_log_group(logGroupName="/vpc/selftest")
    ec2.create_flow_logs(
        ResourceIds=[vpc],
        ResourceType="VPC",
        TrafficType="ALL",
        LogDestinationType="cloud-watch-logs",
        LogGroupName="/vpc/selftest",
        DeliverLogsPermissionArn=f"arn:aws:iam::{ACCOUNT}:role/flow",
    )
    world = {"IpRanges": [{"CidrIp": "0.0.0.0/0"}]}
    rules: dict[str, dict[str, Any]] = {
        "ssh-open": {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, **world},
        "rdp-v6": {
            "IpProtocol": "tcp",
            "FromPort": 3389,
            "ToPort": 3389,
            "Ipv6Ranges": [{"CidrIpv6": "::/0"}],
        },
        "all-traffic": {"IpProtocol": "-1", **world},
        "low-range": {"IpProtocol": "tcp", "FromPort": 0, "ToPort": 1024, **world},
        "web-only": {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, **world},
        "ssh-internal": {
            "IpProtocol": "tcp",
            "FromPort": 22,
            "ToPort": 22,
            "IpRanges": [{"CidrIp": "10.0.0.0/8"}],
        },
    }
    for name, rule in rules.items():
        group = ec2.create_security_group(GroupName=name, Description=name, VpcId=vpc)["GroupId"]
        ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[rule])
        ids[name] = group


def _keys_and_secrets(control: EmulatorControl, ids: dict[str, str]) -> None:
    kms = control.client("kms")
    for name in ("rotating", "static", "disabled"):
        ids[f"key-{name}"] = kms.create_key(Description=name)["KeyMetadata"]["KeyId"]
        kms.create_alias(AliasName=f"alias/{name}", TargetKeyId=ids[f"key-{name}"])
    kms.enable_key_rotation(KeyId=ids["key-rotating"])
    kms.disable_key(KeyId=ids["key-disabled"])
    ids["key-signing"] = kms.create_key(KeyUsage="SIGN_VERIFY", KeySpec="ECC_NIST_P256")[
        "KeyMetadata"
    ]["KeyId"]
    manager = control.client("secretsmanager")
    for name in ("rotated-secret", "static-secret"):
        manager.create_secret(Name=name, SecretString="not-a-real-value")
    manager.rotate_secret(SecretId="rotated-secret", RotationRules={"AutomaticallyAfterDays": 30})


def denied_snapshot(endpoint: str) -> Taken:
    """A snapshot where the DENIED reads answer AccessDenied (the event names botocore
    uses are the hyphenated service ids: s3control's is s3-control)."""
    access = AwsAccess(ENV, endpoint_url=endpoint, read_only=True)
    for service, operation in DENIED:
        for region in ENV.regions:
            client = access.client(service, region)
            event = client.meta.service_model.service_id.hyphenize()
            client.meta.events.register(f"before-call.{event}.{operation}", deny(operation))
    target = Target(
        environment=ENV.name, account=ACCOUNT, regions=tuple(ENV.regions), endpoint=endpoint
    )
    result = take_snapshot(access, ENV, target, [by_kind()[k] for k in KINDS])
    assert not result.problems, result.problems
    return Taken(result.snapshot, ENV, access)


@pytest.fixture(scope="module")
def world(pytestconfig: pytest.Config) -> Iterator[World]:
    checks = checks_of(pytestconfig, *MODULES)
    ids: dict[str, str] = {}
    with EmulatorProcess.start("empty") as emulator:
        control = EmulatorControl(emulator.endpoint)
        _buckets(control)
        _iam_users(control)
        _regional(control, ids)
        _network(control, ids)
        _keys_and_secrets(control, ids)
        _account_level_off(control)
        before = snapshot(emulator.endpoint, KINDS, env=ENV)
        _account_level_on(control)
        after = snapshot(emulator.endpoint, KINDS, env=ENV)
        denied = denied_snapshot(emulator.endpoint)
        yield World(before, after, denied, checks, ids)


def _account(taken: Taken, kind: str) -> Resource:
    return taken.resource(kind, ACCOUNT, region="global")


def _identity(taken: Taken) -> Resource:
    return _account(taken, "sts.identity")


# -- IAM -------------------------------------------------------------------------------


def test_root_mfa_and_root_keys(world: World) -> None:
    after, before = (
        _account(world.after, "iam.account_summary"),
        _account(world.before, "iam.account_summary"),
    )
    assert world.judge("test_iam_root_mfa", after) == ("passed", "")
    assert world.judge("test_iam_root_no_access_keys", after) == ("passed", "")
    assert world.judge("test_iam_root_mfa", before) == (
        "failed",
        f"account {ACCOUNT}: the root user has no MFA device",
    )
    assert world.judge("test_iam_root_no_access_keys", before) == (
        "failed",
        f"account {ACCOUNT}: the root user has access keys",
    )


def test_password_policy(world: World) -> None:
    check = "test_iam_password_policy"
    assert world.judge(check, _account(world.after, "iam.password_policy")) == ("passed", "")
    result, text = world.judge(check, _account(world.before, "iam.password_policy"))
    assert (result, text) == ("failed", f"account {ACCOUNT} has no IAM password policy")
    weak = Resource(
        kind="iam.password_policy",
        region="global",
        id=ACCOUNT,
        data={"PasswordPolicy": {"MinimumPasswordLength": 8, "RequireSymbols": True}},
    )
    result, text = world.judge(check, weak)
    assert result == "failed"
    assert text.startswith(f"account {ACCOUNT}: the password policy minimum length 8")
    assert "does not require numbers" in text and "does not require symbols" not in text


@pytest.mark.parametrize(
    ("user", "expected"),
    [("fresh-user", "passed"), ("retired-user", "passed"), ("stale-user", "failed")],
)
def test_access_key_age(world: World, user: str, expected: str) -> None:
    result, text = world.judge(
        "test_iam_access_key_age", world.after.resource("iam.users", user, "global")
    )
    assert result == expected
    if expected == "failed":
        assert text.startswith("user stale-user has active access keys older than 90 days")
        assert "(200 days)" in text


# -- CloudTrail ----------------------------------------------------------------------------


def test_cloudtrail(world: World) -> None:
    check = "test_cloudtrail_multi_region_logging"
    assert world.judge(check, _identity(world.after), world.after) == ("passed", "")
    result, text = world.judge(check, _identity(world.before), world.before)
    assert result == "failed"
    assert text == (
        f"account {ACCOUNT} has no multi-region trail that is logging management events with "
        "log-file validation: reads-only-trail (no management write events recorded); "
        "single-trail (single-region)"
    )


def test_the_emulator_gives_a_new_trail_the_aws_default_selector(world: World) -> None:
    trails = {t.label: t for t in world.after.snapshot.resources("cloudtrail.trails")}
    assert trails["us-east-1/org-trail"].get("EventSelectors") == {
        "EventSelectors": [
            {
                "ReadWriteType": "All",
                "IncludeManagementEvents": True,
                "DataResources": [],
                "ExcludeManagementEventSources": [],
            }
        ],
        "AdvancedEventSelectors": [],
    }


BASIC_ALL = {"ReadWriteType": "All", "IncludeManagementEvents": True}


def _advanced(*fields: dict[str, Any]) -> dict[str, Any]:
    return {"EventSelectors": [], "AdvancedEventSelectors": [{"FieldSelectors": list(fields)}]}


MANAGEMENT = {"Field": "eventCategory", "Equals": ["Management"]}


@pytest.mark.parametrize(
    ("selectors", "records"),
    [
        ({"EventSelectors": [BASIC_ALL]}, True),
        ({"EventSelectors": [{"ReadWriteType": "WriteOnly"}]}, True),  # management by default
        ({"EventSelectors": [{}]}, True),  # both fields absent: AWS's defaults
        (
            {"EventSelectors": [{"ReadWriteType": "ReadOnly", "IncludeManagementEvents": True}]},
            False,
        ),
        ({"EventSelectors": [{"ReadWriteType": "All", "IncludeManagementEvents": False}]}, False),
        (
            {
                "EventSelectors": [
                    {"ReadWriteType": "All", "IncludeManagementEvents": False},
                    {"ReadWriteType": "WriteOnly", "IncludeManagementEvents": True},
                ]
            },
            True,
        ),
        (_advanced(MANAGEMENT), True),
        (_advanced(MANAGEMENT, {"Field": "readOnly", "Equals": ["false"]}), True),
        (_advanced(MANAGEMENT, {"Field": "readOnly", "Equals": ["true"]}), False),
        (_advanced(MANAGEMENT, {"Field": "readOnly", "NotEquals": ["false"]}), False),
        (_advanced({"Field": "eventCategory", "Equals": ["Data"]}), False),
        ({"EventSelectors": [], "AdvancedEventSelectors": []}, False),
        ({}, False),
        (None, False),
    ],
)
def test_management_write_events_as_aws_expresses_them(
    pytestconfig: pytest.Config, selectors: Any, records: bool
) -> None:
    module = load_checks(pytestconfig, "audit/security/test_cloudtrail.py")
    assert module.records_management_writes(selectors) is records


def test_cloudtrail_shadow_trails_are_read_once(world: World) -> None:
    trails = {t.label: t for t in world.after.snapshot.resources("cloudtrail.trails")}
    assert set(trails) == {
        "us-east-1/org-trail",
        "us-west-2/org-trail",
        "us-west-2/single-trail",
        "us-east-1/reads-only-trail",
        "us-west-2/reads-only-trail",
    }
    assert trails["us-west-2/org-trail"].get("Shadow") is True
    assert "Status" not in trails["us-west-2/org-trail"].data
    assert "EventSelectors" not in trails["us-west-2/org-trail"].data
    assert trails["us-east-1/org-trail"].get("Status")["IsLogging"] is True
    calls = world.after.calls["by_operation"]
    assert calls.get("cloudtrail:GetTrailStatus") == 3, calls
    assert calls.get("cloudtrail:GetEventSelectors") == 3, calls


# -- GuardDuty, Security Hub, Config, EBS ----------------------------------------------------


@pytest.mark.parametrize(
    ("check", "kind", "record", "message"),
    [
        ("test_guardduty_enabled", "guardduty.detectors", "guardduty", "no GuardDuty detector"),
        ("test_securityhub_enabled", "securityhub.hub", "securityhub", "Security Hub is not"),
        ("test_config_recorder_recording", "config.recorders", "config", "the AWS Config"),
        (
            "test_ec2_ebs_default_encryption",
            "ec2.ebs_encryption_by_default",
            "ebs-encryption-by-default",
            "EBS encryption by default is off",
        ),
    ],
)
def test_per_region_services(
    world: World, check: str, kind: str, record: str, message: str
) -> None:
    assert world.judge(check, world.after.resource(kind, record, EAST)) == ("passed", "")
    result, text = world.judge(check, world.after.resource(kind, record, WEST))
    assert result == "failed"
    assert text.startswith(f"us-west-2/{record}: {message}")


# -- S3 -------------------------------------------------------------------------------------


def test_account_public_access_block(world: World) -> None:
    check = "test_s3_account_public_access_block"
    kind = "s3.account_public_access_block"
    assert world.judge(check, _account(world.after, kind)) == ("passed", "")
    assert world.judge(check, _account(world.before, kind)) == (
        "failed",
        f"account {ACCOUNT} has no account-level S3 public access block",
    )


@pytest.mark.parametrize(
    ("check", "message"),
    [
        ("test_s3_bucket_encryption", "bucket bare-bucket-sec (us-west-2) has no default"),
        ("test_s3_bucket_versioning", "bucket bare-bucket-sec (us-west-2) has versioning never"),
        ("test_s3_bucket_public_access_block", "bucket bare-bucket-sec (us-west-2) has no public"),
    ],
)
def test_buckets(world: World, check: str, message: str) -> None:
    good = world.after.resource("s3.buckets", "good-bucket-sec", "global")
    bare = world.after.resource("s3.buckets", "bare-bucket-sec", "global")
    assert (good.get("Region"), bare.get("Region")) == (EAST, WEST)
    assert good.tags and good.tags["Environment"] == "production"
    assert world.judge(check, good) == ("passed", "")
    result, text = world.judge(check, bare)
    assert result == "failed" and text.startswith(message), text


# -- network ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("group", "expected", "detail"),
    [
        ("ssh-open", "failed", "port 22 from 0.0.0.0/0 (tcp 22-22)"),
        ("rdp-v6", "failed", "port 3389 from ::/0 (tcp 3389-3389)"),
        ("all-traffic", "failed", "port 22/3389 from 0.0.0.0/0 (all traffic)"),
        ("low-range", "failed", "port 22 from 0.0.0.0/0 (tcp 0-1024)"),
        ("web-only", "passed", ""),
        ("ssh-internal", "passed", ""),
    ],
)
def test_admin_ports(world: World, group: str, expected: str, detail: str) -> None:
    resource = world.after.resource("ec2.security_groups", world.ids[group], WEST)
    result, text = world.judge("test_ec2_sg_admin_ports", resource)
    assert result == expected
    if expected == "failed":
        assert text == f"security group us-west-2/{world.ids[group]} ({group}) allows {detail}"


def test_flow_logs(world: World) -> None:
    check = "test_vpc_flow_logs"
    logged = world.after.resource("ec2.vpcs", world.ids["logged-vpc"], WEST)
    dark = world.after.resource("ec2.vpcs", world.ids["dark-vpc"], WEST)
    assert world.judge(check, logged) == ("passed", "")
    assert world.judge(check, dark) == (
        "failed",
        f"VPC us-west-2/{world.ids['dark-vpc']} has no flow log",
    )
    defaults = [v for v in world.after.snapshot.resources("ec2.vpcs") if v.get("IsDefault")]
    assert {v.region for v in defaults} == {EAST, WEST}  # moto makes them; they are judged
    result, text = world.judge(check, defaults[0])
    assert result == "failed" and "(default VPC) has no flow log" in text


# -- KMS and Secrets Manager --------------------------------------------------------------------


def test_kms_rotation(world: World) -> None:
    check = world.checks["test_kms_key_rotation"]
    judged = world.after.selected(check)
    assert f"us-east-1/{world.ids['key-rotating']}" in judged
    assert f"us-east-1/{world.ids['key-disabled']}" not in judged
    assert f"us-east-1/{world.ids['key-signing']}" not in judged
    rotating = world.after.resource("kms.keys", world.ids["key-rotating"])
    static = world.after.resource("kms.keys", world.ids["key-static"])
    assert world.judge("test_kms_key_rotation", rotating) == ("passed", "")
    assert world.judge("test_kms_key_rotation", static) == (
        "failed",
        f"KMS key us-east-1/{world.ids['key-static']} (alias/static) has automatic rotation off",
    )


def test_secret_rotation(world: World) -> None:
    check = "test_secretsmanager_rotation"
    rotated = world.after.resource("secretsmanager.secrets", "rotated-secret")
    static = world.after.resource("secretsmanager.secrets", "static-secret")
    assert world.judge(check, rotated) == ("passed", "")
    assert world.judge(check, static) == (
        "failed",
        "secret us-east-1/static-secret has automatic rotation off",
    )


# -- unreadable data, and the reads themselves ------------------------------------------------


def test_denied_reads_are_not_evaluated(world: World) -> None:
    denied = world.denied
    for kind in (
        "iam.account_summary",
        "guardduty.detectors",
        "securityhub.hub",
        "s3.account_public_access_block",
        "ec2.security_groups",
    ):
        gaps = denied.snapshot.gaps(kind)
        assert gaps and all("access denied" in g.reason for g in gaps), kind
        assert not denied.snapshot.resources(kind), kind
    result, text = world.judge("test_cloudtrail_multi_region_logging", _identity(denied), denied)
    assert result == "not-evaluated" and "Status could not be read" in text
    for check, resource in (
        ("test_iam_access_key_age", denied.resource("iam.users", "stale-user", "global")),
        ("test_s3_bucket_versioning", denied.resource("s3.buckets", "bare-bucket-sec", "global")),
        ("test_kms_key_rotation", denied.resource("kms.keys", world.ids["key-static"])),
    ):
        result, text = world.judge(check, resource, denied)
        assert result == "not-evaluated", (check, text)
        assert "access denied" in text


def test_reads_once_and_never_writes(world: World) -> None:
    for taken in (world.before, world.after, world.denied):
        calls = taken.calls
        assert calls["total_calls"] == calls["distinct_requests"] > 0, calls["repeated_requests"]
        assert calls["mutating_calls"] == []
