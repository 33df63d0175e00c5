"""Data: RDS `prod-db`, DynamoDB `prod-sessions` and `prod-orders`, SQS `prod-jobs` and
`prod-notifications` with their DLQs, the AWS Backup plan `prod-daily`, and the alarms
on all of them (every alarm notifies ALERTS_TOPIC_ARN). All in us-east-1.

demo: everything hardened; every data check passes.
  prod-db: postgres 16, Multi-AZ, encrypted, deletion protection, backups 14 days,
  Performance Insights (7 days), enhanced monitoring (60 s), automatic minor upgrades,
  private, in subnet group `prod-db-subnets` over prod-private-a/b (looked up by Name,
  made only if absent). Tables: PITR, deletion protection, KMS, TTL `expires_at` on
  prod-sessions. Queues: SSE, redrive to `<name>-dlq` after 5 receives. `prod-daily`
  covers prod-db and both tables. Alarms: prod-db CPU and free storage, each work queue's
  oldest message age, each DLQ's depth, each table's write throttling.

demo-risky: warning-level defects only.
  - prod-db: Performance Insights off                        (rds-performance-insights)
  - prod-sessions: TTL off                                   (dynamodb-ttl)
  - prod-notifications: maxReceiveCount 50                   (sqs-max-receive-count)
  - prod-notifications-dlq: no depth alarm                   (sqs-dlq-depth-alarm)

demo-broken: critical defects, and one warning.
  - prod-db: single-AZ                                       (rds-multi-az)
  - prod-db: no deletion protection                          (rds-deletion-protection)
  - prod-db: automated backups kept 1 day                    (rds-backup-retention)
  - prod-orders: point-in-time recovery off                  (dynamodb-pitr)
  - prod-orders: on the AWS-owned key, no KMS key (warning)  (dynamodb-kms-encryption)
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from readiness.emulator.seeds import (
    ALERTS_TOPIC_ARN,
    PRIVATE_SUBNETS,
    TAGS,
    VPC_NAME,
    Stack,
    tag_list,
)

ORDER = 20
QUEUES = ("prod-jobs", "prod-notifications")
TABLES = ("prod-sessions", "prod-orders")
TTL = {"prod-sessions": "expires_at"}
DB = "prod-db"
DB_SUBNET_GROUP = "prod-db-subnets"
DATA_KEY_ALIAS = "alias/prod-data"
BACKUP_PLAN = "prod-daily"
BACKUP_VAULT = "prod-backups"
MONITORING_ROLE = "prod-rds-monitoring"
BACKUP_ROLE = "prod-backup"
SUBNET_CIDRS = ("10.0.1.0/24", "10.0.2.0/24")
ZONES = ("us-east-1a", "us-east-1b")
POLICIES = "arn:aws:iam::aws:policy/service-role"


def seed(stack: Stack) -> None:
    key_arn = _data_key(stack)
    _queues(stack)
    table_arns = _tables(stack, key_arn)
    db_arn = _database(stack, key_arn)
    _backup_plan(stack, [db_arn, *table_arns])
    _alarms(stack)


# -- shared pieces other areas may already have made -------------------------------


def _data_key(stack: Stack) -> str | None:
    """The ARN of alias/prod-data if the security area made it; else AWS managed keys."""
    kms = stack.client("kms")
    try:
        return str(kms.describe_key(KeyId=DATA_KEY_ALIAS)["KeyMetadata"]["Arn"])
    except kms.exceptions.NotFoundException:
        return None


def _private_subnets(stack: Stack) -> list[str]:
    """prod-private-a/b by Name tag; made (with prod-vpc if need be) only if absent."""
    ec2 = stack.client("ec2")
    found = ec2.describe_subnets(Filters=[{"Name": "tag:Name", "Values": list(PRIVATE_SUBNETS)}])
    by_name = {
        t["Value"]: s["SubnetId"]
        for s in found["Subnets"]
        for t in s.get("Tags", [])
        if t["Key"] == "Name"
    }
    if all(name in by_name for name in PRIVATE_SUBNETS):
        return [by_name[name] for name in PRIVATE_SUBNETS]
    vpcs = ec2.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": [VPC_NAME]}])["Vpcs"]
    if vpcs:
        vpc_id = vpcs[0]["VpcId"]
    else:
        vpc_id = ec2.create_vpc(
            CidrBlock="10.0.0.0/16",
            TagSpecifications=[{"ResourceType": "vpc", "Tags": tag_list({"Name": VPC_NAME})}],
        )["Vpc"]["VpcId"]
    for name, cidr, zone in zip(PRIVATE_SUBNETS, SUBNET_CIDRS, ZONES, strict=True):
        if name not in by_name:
            by_name[name] = ec2.create_subnet(
                VpcId=vpc_id,
                CidrBlock=cidr,
                AvailabilityZone=zone,
                TagSpecifications=[{"ResourceType": "subnet", "Tags": tag_list({"Name": name})}],
            )["Subnet"]["SubnetId"]
    return [by_name[name] for name in PRIVATE_SUBNETS]


def _service_role(stack: Stack, name: str, service: str, policy: str) -> str:
    iam = stack.client("iam")
    try:
        return str(iam.get_role(RoleName=name)["Role"]["Arn"])
    except iam.exceptions.NoSuchEntityException:
        pass
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
        ],
    }
    arn = iam.create_role(
        RoleName=name, AssumeRolePolicyDocument=json.dumps(trust), Tags=tag_list()
    )["Role"]["Arn"]
    iam.attach_role_policy(RoleName=name, PolicyArn=f"{POLICIES}/{policy}")
    return str(arn)


# -- our resources -----------------------------------------------------------------


def _queues(stack: Stack) -> None:
    sqs = stack.client("sqs")
    for name in QUEUES:
        dlq = sqs.create_queue(QueueName=f"{name}-dlq", tags=dict(TAGS))
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq["QueueUrl"], AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        receives = 50 if stack.risky and name == "prod-notifications" else 5
        sqs.create_queue(
            QueueName=name,
            Attributes={
                "RedrivePolicy": json.dumps(
                    {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": receives}
                ),
                "KmsMasterKeyId": "alias/aws/sqs",
            },
            tags=dict(TAGS),
        )
        stack.count("sqs.queues", 2)


def _tables(stack: Stack, key_arn: str | None) -> list[str]:
    ddb = stack.client("dynamodb")
    arns = []
    for name in TABLES:
        aws_owned_key = stack.broken and name == "prod-orders"
        sse: dict[str, Any] = {"Enabled": True, "SSEType": "KMS"}
        if key_arn:
            sse["KMSMasterKeyId"] = key_arn
        table = ddb.create_table(
            TableName=name,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            DeletionProtectionEnabled=True,
            **({} if aws_owned_key else {"SSESpecification": sse}),
            Tags=tag_list(),
        )["TableDescription"]
        arns.append(str(table["TableArn"]))
        pitr = not (stack.broken and name == "prod-orders")
        ddb.update_continuous_backups(
            TableName=name,
            PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": pitr},
        )
        if name in TTL and not stack.risky:
            ddb.update_time_to_live(
                TableName=name,
                TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL[name]},
            )
        stack.count("dynamodb.tables")
    return arns


def _database(stack: Stack, key_arn: str | None) -> str:
    rds = stack.client("rds")
    rds.create_db_subnet_group(
        DBSubnetGroupName=DB_SUBNET_GROUP,
        DBSubnetGroupDescription="prod-db in the private subnets",
        SubnetIds=_private_subnets(stack),
        Tags=tag_list(),
    )
    monitoring_role = _service_role(
        stack, MONITORING_ROLE, "monitoring.rds.amazonaws.com", "AmazonRDSEnhancedMonitoringRole"
    )
    encryption: dict[str, Any] = {"StorageEncrypted": True}
    if key_arn:
        encryption["KmsKeyId"] = key_arn
    insights: dict[str, Any] = (
        {}
        if stack.risky
        else {"EnablePerformanceInsights": True, "PerformanceInsightsRetentionPeriod": 7}
    )
    db = rds.create_db_instance(
        DBInstanceIdentifier=DB,
        DBInstanceClass="db.r6g.large",
        Engine="postgres",
        EngineVersion="16.3",
        DBName="app",
        MasterUsername="app_admin",
        # A throwaway password: the demo's real one is the secret prod/db-password.
        MasterUserPassword=secrets.token_urlsafe(24),
        AllocatedStorage=100,
        MaxAllocatedStorage=500,
        StorageType="gp3",
        MultiAZ=not stack.broken,
        DeletionProtection=not stack.broken,
        BackupRetentionPeriod=1 if stack.broken else 14,
        MonitoringInterval=60,
        MonitoringRoleArn=monitoring_role,
        AutoMinorVersionUpgrade=True,
        PubliclyAccessible=False,
        DBSubnetGroupName=DB_SUBNET_GROUP,
        CopyTagsToSnapshot=True,
        Tags=tag_list(),
        **encryption,
        **insights,
    )["DBInstance"]
    stack.count("rds.db_instances")
    return str(db["DBInstanceArn"])


def _backup_plan(stack: Stack, arns: list[str]) -> None:
    backup = stack.client("backup")
    backup.create_backup_vault(BackupVaultName=BACKUP_VAULT, BackupVaultTags=dict(TAGS))
    plan = backup.create_backup_plan(
        BackupPlan={
            "BackupPlanName": BACKUP_PLAN,
            "Rules": [
                {
                    "RuleName": "daily-35-days",
                    "TargetBackupVaultName": BACKUP_VAULT,
                    "ScheduleExpression": "cron(0 3 * * ? *)",
                    "Lifecycle": {"DeleteAfterDays": 35},
                }
            ],
        },
        BackupPlanTags=dict(TAGS),
    )
    role = _service_role(
        stack, BACKUP_ROLE, "backup.amazonaws.com", "AWSBackupServiceRolePolicyForBackup"
    )
    backup.create_backup_selection(
        BackupPlanId=plan["BackupPlanId"],
        BackupSelection={"SelectionName": "prod-data", "IamRoleArn": role, "Resources": arns},
    )
    stack.count("backup.plans")


def _alarms(stack: Stack) -> None:
    cloudwatch = stack.client("cloudwatch")

    def alarm(name: str, namespace: str, metric: str, dims: dict[str, str], **rule: Any) -> None:
        cloudwatch.put_metric_alarm(
            AlarmName=name,
            Namespace=namespace,
            MetricName=metric,
            Dimensions=[{"Name": k, "Value": v} for k, v in dims.items()],
            Period=300,
            AlarmActions=[ALERTS_TOPIC_ARN],
            OKActions=[ALERTS_TOPIC_ARN],
            Tags=tag_list(),
            **rule,
        )
        stack.count("cloudwatch.alarms")

    db = {"DBInstanceIdentifier": DB}
    alarm(
        f"{DB}-cpu-high",
        "AWS/RDS",
        "CPUUtilization",
        db,
        Statistic="Average",
        EvaluationPeriods=3,
        Threshold=80.0,
        ComparisonOperator="GreaterThanThreshold",
    )
    alarm(
        f"{DB}-free-storage-low",
        "AWS/RDS",
        "FreeStorageSpace",
        db,
        Statistic="Minimum",
        EvaluationPeriods=1,
        Threshold=10.0 * 1024**3,
        ComparisonOperator="LessThanThreshold",
    )
    for name in QUEUES:
        alarm(
            f"{name}-oldest-message",
            "AWS/SQS",
            "ApproximateAgeOfOldestMessage",
            {"QueueName": name},
            Statistic="Maximum",
            EvaluationPeriods=2,
            Threshold=900.0,
            ComparisonOperator="GreaterThanThreshold",
        )
        if stack.risky and name == "prod-notifications":
            continue
        alarm(
            f"{name}-dlq-not-empty",
            "AWS/SQS",
            "ApproximateNumberOfMessagesVisible",
            {"QueueName": f"{name}-dlq"},
            Statistic="Maximum",
            EvaluationPeriods=1,
            Threshold=0.0,
            ComparisonOperator="GreaterThanThreshold",
            TreatMissingData="notBreaching",
        )
    for name in TABLES:
        alarm(
            f"{name}-write-throttled",
            "AWS/DynamoDB",
            "WriteThrottleEvents",
            {"TableName": name},
            Statistic="Sum",
            EvaluationPeriods=2,
            Threshold=0.0,
            ComparisonOperator="GreaterThanThreshold",
            TreatMissingData="notBreaching",
        )
