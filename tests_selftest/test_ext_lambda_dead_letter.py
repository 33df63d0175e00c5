"""The lambda_dead_letter extension: a function's DLQ is kept and returned, as in AWS."""

import io
import json
import zipfile
from collections.abc import Iterator
from typing import Any

import pytest

from readiness.emulator.control import EmulatorControl
from readiness.emulator.process import EmulatorProcess

QUEUE = "arn:aws:sqs:us-east-1:123456789012:ext-dlq"
OTHER = "arn:aws:sns:us-east-1:123456789012:ext-failures"


@pytest.fixture(scope="module")
def lam() -> Iterator[Any]:
    with EmulatorProcess.start("empty") as emulator:
        control = EmulatorControl(emulator.endpoint)
        control.client("iam").create_role(
            RoleName="ext-lambda",
            AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
        )
        yield control.client("lambda")


def create(lam: Any, name: str, **extra: Any) -> None:
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("index.py", "def handler(event, context):\n    return event\n")
    lam.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role="arn:aws:iam::123456789012:role/ext-lambda",
        Handler="index.handler",
        Code={"ZipFile": code.getvalue()},
        **extra,
    )


def test_every_configuration_answer_carries_the_dlq(lam: Any) -> None:
    create(lam, "with-dlq", DeadLetterConfig={"TargetArn": QUEUE})
    expected = {"TargetArn": QUEUE}
    assert lam.get_function_configuration(FunctionName="with-dlq")["DeadLetterConfig"] == expected
    function = lam.get_function(FunctionName="with-dlq")
    assert function["Configuration"]["DeadLetterConfig"] == expected
    listed = {f["FunctionName"]: f for f in lam.list_functions()["Functions"]}
    assert listed["with-dlq"]["DeadLetterConfig"] == expected


def test_a_function_without_dlq_has_none(lam: Any) -> None:
    create(lam, "without-dlq")
    assert "DeadLetterConfig" not in lam.get_function_configuration(FunctionName="without-dlq")


def test_update_sets_and_clears_it(lam: Any) -> None:
    create(lam, "changing")
    lam.update_function_configuration(
        FunctionName="changing", DeadLetterConfig={"TargetArn": OTHER}
    )
    config = lam.get_function_configuration(FunctionName="changing")
    assert config["DeadLetterConfig"] == {"TargetArn": OTHER}
    lam.update_function_configuration(FunctionName="changing", DeadLetterConfig={"TargetArn": ""})
    assert "DeadLetterConfig" not in lam.get_function_configuration(FunctionName="changing")
