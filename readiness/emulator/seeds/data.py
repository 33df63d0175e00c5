"""Data: SQS queues with dead-letter queues, DynamoDB tables (RDS and backups follow).

demo-risky / demo-broken: no defect here yet.
"""

from __future__ import annotations

import json

from readiness.emulator.seeds import TAGS, Stack, tag_list

ORDER = 20
QUEUES = ("prod-jobs", "prod-notifications")
TABLES = ("prod-sessions", "prod-orders")


def seed(stack: Stack) -> None:
    sqs = stack.client("sqs")
    for name in QUEUES:
        dlq = sqs.create_queue(QueueName=f"{name}-dlq", tags=dict(TAGS))
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq["QueueUrl"], AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        sqs.create_queue(
            QueueName=name,
            Attributes={
                "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 5}),
                "KmsMasterKeyId": "alias/aws/sqs",
            },
            tags=dict(TAGS),
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
            Tags=tag_list(),
        )
        stack.count("dynamodb.tables")
