"""Security: the account's guard rails, in both regions, and the stores they protect.

demo: everything hardened; every security check passes.
  Account: root MFA on and no root access keys (emulator control `iam-root-account`),
  password policy (14 characters, all four character classes, 90 days, 24 remembered),
  user `deploy-bot` with one fresh access key, the account-level S3 public access block.
  Buckets `prod-assets-123456789012` and `prod-logs-123456789012` (us-east-1): SSE-KMS
  default encryption, versioning, all four public access block flags, TAGS.
  CloudTrail `org-trail` (home us-east-1, multi-region, logging, log-file validation)
  into prod-logs. GuardDuty detector, Security Hub and an AWS Config recorder (recording,
  delivery to prod-logs) in us-east-1 and us-west-2. EBS encryption by default in both.
  KMS key `alias/prod-data` (rotation on); secret `prod/db-password` (rotation every 30
  days). VPC `prod-vpc` (made here, first, so the later areas find it) with security
  groups `prod-alb` (443 and 80 from anywhere) and `prod-app` (8080 from prod-alb).
  Flow logs on every VPC of both regions, the default VPCs included (they carry traffic
  as soon as something is launched into them), to log group `/vpc/prod-flow-logs`
  (365 days, TAGS) through role `prod-flow-logs`.

demo-risky: warning-level defects only.
  - prod-assets-123456789012: versioning never enabled       (s3-bucket-versioning)
  - alias/prod-data: automatic rotation off                  (kms-key-rotation)
  - deploy-bot: its access key is 200 days old               (iam-access-key-age)
  - prod/db-password: never rotated                          (secretsmanager-rotation)

demo-broken: critical defects, and one warning.
  - the root user has no MFA                                 (iam-root-mfa)
  - GuardDuty has no detector in us-west-2                   (guardduty-enabled)
  - security group `prod-bastion` (us-east-1, prod-vpc) opens SSH to 0.0.0.0/0 and ::/0
                                                             (ec2-sg-admin-ports)
  - org-trail has stopped logging                            (cloudtrail-multi-region-logging)
  - EBS encryption by default is off in us-west-2 (warning)  (ec2-ebs-default-encryption)

Other areas that need a bucket use `create_hardened_bucket(stack, name, region)`.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from readiness.aws.access import _strip_account_host
from readiness.emulator.seeds import ACCOUNT, HOME, TAGS, VPC_NAME, Stack, tag_list

ORDER = 5
ASSETS_BUCKET = f"prod-assets-{ACCOUNT}"
LOG_BUCKET = f"prod-logs-{ACCOUNT}"
TRAIL = "org-trail"
DATA_KEY_ALIAS = "alias/prod-data"
SECRET = "prod/db-password"
DEPLOY_USER = "deploy-bot"
FLOW_LOG_GROUP = "/vpc/prod-flow-logs"
FLOW_LOG_ROLE = "prod-flow-logs"
CONFIG_ROLE = "prod-config-recorder"
BASTION_SG = "prod-bastion"
ANYWHERE = {"IpRanges": [{"CidrIp": "0.0.0.0/0"}], "Ipv6Ranges": [{"CidrIpv6": "::/0"}]}


def seed(stack: Stack) -> None:
    _account(stack)
    key_arn = _data_key(stack)
    create_hardened_bucket(stack, LOG_BUCKET, HOME, key_arn=key_arn)
    create_hardened_bucket(stack, ASSETS_BUCKET, HOME, key_arn=key_arn, versioned=not stack.risky)
    _trail(stack)
    _secret(stack, key_arn)
    vpc_id = _prod_vpc(stack)
    _security_groups(stack, vpc_id)
    for region in stack.regions:
        _detection(stack, region)
        ebs_on = not (stack.broken and region != HOME)
        if ebs_on:
            stack.client("ec2", region).enable_ebs_encryption_by_default()
        _flow_logs(stack, region)


# -- shared with other areas ---------------------------------------------------------


def create_hardened_bucket(
    stack: Stack,
    name: str,
    region: str,
    *,
    key_arn: str | None = None,
    versioned: bool = True,
) -> None:
    """A bucket as the security checks want it: default encryption (SSE-KMS with
    `key_arn`, else SSE-S3), versioning, all four public access block flags, TAGS."""
    s3 = stack.client("s3", region)
    extra: dict[str, Any] = {}
    if region != "us-east-1":
        extra["CreateBucketConfiguration"] = {"LocationConstraint": region}
    s3.create_bucket(Bucket=name, **extra)
    rule: dict[str, Any] = {"SSEAlgorithm": "AES256"}
    if key_arn:
        rule = {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key_arn}
    s3.put_bucket_encryption(
        Bucket=name,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": rule, "BucketKeyEnabled": True}]
        },
    )
    if versioned:
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    s3.put_public_access_block(
        Bucket=name,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": tag_list()})
    stack.count("s3.buckets")


# -- account ------------------------------------------------------------------------------


def _account(stack: Stack) -> None:
    stack.control.call("iam-root-account", mfa=not stack.broken, access_keys=False)
    iam = stack.client("iam")
    iam.update_account_password_policy(
        MinimumPasswordLength=14,
        RequireSymbols=True,
        RequireNumbers=True,
        RequireUppercaseCharacters=True,
        RequireLowercaseCharacters=True,
        AllowUsersToChangePassword=True,
        MaxPasswordAge=90,
        PasswordReusePrevention=24,
    )
    iam.create_user(UserName=DEPLOY_USER, Tags=tag_list())
    key = iam.create_access_key(UserName=DEPLOY_USER)["AccessKey"]["AccessKeyId"]
    if stack.risky:
        stack.control.call(
            "iam-access-key-created", user=DEPLOY_USER, access_key_id=key, days_ago=200
        )
    stack.count("iam.users")
    s3control = stack.client("s3control")
    # A loopback endpoint has no <account>.host: drop the prefix botocore puts there.
    s3control.meta.events.register("before-send.s3-control", _strip_account_host)
    s3control.put_public_access_block(
        AccountId=ACCOUNT,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )


def _role(stack: Stack, name: str, service: str) -> str:
    iam = stack.client("iam")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
        ],
    }
    return str(
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust), Tags=tag_list())[
            "Role"
        ]["Arn"]
    )


def _data_key(stack: Stack) -> str:
    kms = stack.client("kms")
    key = kms.create_key(
        Description="Production data at rest",
        KeyUsage="ENCRYPT_DECRYPT",
        KeySpec="SYMMETRIC_DEFAULT",
        Tags=[{"TagKey": k, "TagValue": v} for k, v in TAGS.items()],
    )["KeyMetadata"]
    kms.create_alias(AliasName=DATA_KEY_ALIAS, TargetKeyId=key["KeyId"])
    if not stack.risky:
        kms.enable_key_rotation(KeyId=key["KeyId"])
    stack.count("kms.keys")
    return str(key["Arn"])


def _trail(stack: Stack) -> None:
    cloudtrail = stack.client("cloudtrail")
    cloudtrail.create_trail(
        Name=TRAIL,
        S3BucketName=LOG_BUCKET,
        S3KeyPrefix="cloudtrail",
        IsMultiRegionTrail=True,
        IncludeGlobalServiceEvents=True,
        EnableLogFileValidation=True,
        TagsList=tag_list(),
    )
    if not stack.broken:
        cloudtrail.start_logging(Name=TRAIL)
    stack.count("cloudtrail.trails")


def _secret(stack: Stack, key_arn: str) -> None:
    manager = stack.client("secretsmanager")
    manager.create_secret(
        Name=SECRET,
        KmsKeyId=key_arn,
        SecretString=secrets.token_urlsafe(24),
        Tags=tag_list(),
    )
    if not stack.risky:
        # moto invokes a rotation function it is given (which needs a container), and
        # accepts rotation rules alone; AWS would want the function or managed rotation.
        manager.rotate_secret(
            SecretId=SECRET,
            RotationRules={"AutomaticallyAfterDays": 30},
            RotateImmediately=False,
        )
    stack.count("secretsmanager.secrets")


# -- detection, per region ---------------------------------------------------------------


def _detection(stack: Stack, region: str) -> None:
    if not (stack.broken and region != HOME):
        stack.client("guardduty", region).create_detector(
            Enable=True, FindingPublishingFrequency="FIFTEEN_MINUTES", Tags=dict(TAGS)
        )
        stack.count("guardduty.detectors")
    stack.client("securityhub", region).enable_security_hub(
        EnableDefaultStandards=True, Tags=dict(TAGS)
    )
    config = stack.client("config", region)
    role = f"arn:aws:iam::{ACCOUNT}:role/{CONFIG_ROLE}"
    if region == HOME:
        role = _role(stack, CONFIG_ROLE, "config.amazonaws.com")
    config.put_configuration_recorder(
        ConfigurationRecorder={
            "name": "default",
            "roleARN": role,
            "recordingGroup": {"allSupported": True, "includeGlobalResourceTypes": region == HOME},
        }
    )
    config.put_delivery_channel(
        DeliveryChannel={"name": "default", "s3BucketName": LOG_BUCKET, "s3KeyPrefix": "config"}
    )
    config.start_configuration_recorder(ConfigurationRecorderName="default")


# -- network -------------------------------------------------------------------------------


def _prod_vpc(stack: Stack) -> str:
    ec2 = stack.client("ec2")
    return str(
        ec2.create_vpc(
            CidrBlock="10.0.0.0/16",
            TagSpecifications=[{"ResourceType": "vpc", "Tags": tag_list({"Name": VPC_NAME})}],
        )["Vpc"]["VpcId"]
    )


def _security_groups(stack: Stack, vpc_id: str) -> None:
    ec2 = stack.client("ec2")

    def group(name: str, description: str) -> str:
        return str(
            ec2.create_security_group(
                GroupName=name,
                Description=description,
                VpcId=vpc_id,
                TagSpecifications=[
                    {"ResourceType": "security-group", "Tags": tag_list({"Name": name})}
                ],
            )["GroupId"]
        )

    alb = group("prod-alb", "Public entry point: HTTPS and the HTTP redirect")
    ec2.authorize_security_group_ingress(
        GroupId=alb,
        IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": port, "ToPort": port, **ANYWHERE}
            for port in (443, 80)
        ],
    )
    app = group("prod-app", "Services behind the load balancer")
    ec2.authorize_security_group_ingress(
        GroupId=app,
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 8080,
                "ToPort": 8080,
                "UserIdGroupPairs": [{"GroupId": alb}],
            }
        ],
    )
    stack.count("ec2.security_groups", 2)
    if stack.broken:
        bastion = group(BASTION_SG, "Operator access")
        ec2.authorize_security_group_ingress(
            GroupId=bastion,
            IpPermissions=[{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, **ANYWHERE}],
        )
        stack.count("ec2.security_groups")


def _flow_logs(stack: Stack, region: str) -> None:
    """Flow logs on every VPC of the region (default VPCs too), to /vpc/prod-flow-logs."""
    logs = stack.client("logs", region)
    logs.create_log_group(logGroupName=FLOW_LOG_GROUP, tags=dict(TAGS))
    logs.put_retention_policy(logGroupName=FLOW_LOG_GROUP, retentionInDays=365)
    role = f"arn:aws:iam::{ACCOUNT}:role/{FLOW_LOG_ROLE}"
    if region == HOME:
        role = _role(stack, FLOW_LOG_ROLE, "vpc-flow-logs.amazonaws.com")
    ec2 = stack.client("ec2", region)
    vpcs = ec2.describe_vpcs()["Vpcs"]
    # What AWS makes by itself (default VPCs, default security groups) is tagged too.
    defaults = [v["VpcId"] for v in vpcs if v.get("IsDefault")]
    groups = ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": ["default"]}])
    defaults += [g["GroupId"] for g in groups["SecurityGroups"]]
    if defaults:
        ec2.create_tags(Resources=defaults, Tags=tag_list({"Name": "default"}))
    ec2.create_flow_logs(
        ResourceIds=[v["VpcId"] for v in vpcs],
        ResourceType="VPC",
        TrafficType="ALL",
        LogDestinationType="cloud-watch-logs",
        LogGroupName=FLOW_LOG_GROUP,
        DeliverLogsPermissionArn=role,
        TagSpecifications=[{"ResourceType": "vpc-flow-log", "Tags": tag_list()}],
    )
    stack.count("ec2.flow_logs", len(vpcs))
