"""The backbone every demo stack has: what the seed's quick health check lists.

ECS cluster, SQS queues with their dead-letter queue, DynamoDB tables, the monthly
budget. Names match `readiness.toml`'s local environments.
"""

from __future__ import annotations

import json

from readiness.emulator.seeds import Stack

ORDER = 10

CLUSTER = "prod-cluster"
QUEUES = ("prod-jobs", "prod-notifications")
TABLES = ("prod-sessions", "prod-orders")
BUDGET = "monthly-production"
TAGS = [{"Key": "Environment", "Value": "production"}, {"Key": "Owner", "Value": "platform"}]


def seed(stack: Stack) -> None:
    ecs = stack.client("ecs")
    ecs.create_cluster(
        clusterName=CLUSTER,
        settings=[{"name": "containerInsights", "value": "enabled"}],
        tags=[{"key": t["Key"], "value": t["Value"]} for t in TAGS],
    )
    stack.count("ecs.clusters")

    sqs = stack.client("sqs")
    for name in QUEUES:
        dlq = sqs.create_queue(QueueName=f"{name}-dlq", tags={t["Key"]: t["Value"] for t in TAGS})
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq["QueueUrl"], AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        sqs.create_queue(
            QueueName=name,
            Attributes={
                "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 5}),
                "KmsMasterKeyId": "alias/aws/sqs",
            },
            tags={t["Key"]: t["Value"] for t in TAGS},
        )
        stack.count("sqs.queues", 2)

    ddb = stack.client("dynamodb")
    for name in TABLES:
        ddb.create_table(
            TableName=name,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            DeletionProtectionEnabled=True,
            SSESpecification={"Enabled": True, "SSEType": "KMS"},
            Tags=TAGS,
        )
        stack.count("dynamodb.tables")

    budgets = stack.client("budgets")
    budgets.create_budget(
        AccountId="123456789012",
        Budget={
            "BudgetName": BUDGET,
            "BudgetLimit": {"Amount": "450", "Unit": "USD"},
            "TimeUnit": "MONTHLY",
            "BudgetType": "COST",
        },
        NotificationsWithSubscribers=[
            {
                "Notification": {
                    "NotificationType": "FORECASTED",
                    "ComparisonOperator": "GREATER_THAN",
                    "Threshold": 90,
                    "ThresholdType": "PERCENTAGE",
                },
                "Subscribers": [{"SubscriptionType": "EMAIL", "Address": "platform@example.com"}],
            }
        ],
    )
    stack.count("budgets")
