"""The least-privilege IAM policy of a phase, built from the declarations kept next to the code.

A pytest phase (preflight, audit, postdeploy) sends what its allow-list holds
(`readiness.inventory.allowlist.allow_list`: its collectors' `reads`, the credential
check's read and, for postdeploy, the triage's log read) and what its checks declare
with `@pytest.mark.aws_reads(...)`. A deploy (`-m deploy`) reads for its own collectors
and for the audit its Phase 3 re-runs, and sends what the deploy steps declare (their
reads and their writes); `deploy_steps` hands those in, since `readiness` imports none
of it. Terraform's own calls are the module's business, not part of this policy.

Declarations name operations the way the API does, with the boto3 client's service
name (`cloudwatch:DescribeAlarms`, `s3:GetBucketEncryption`); a policy names IAM actions
(`s3:GetEncryptionConfiguration`), so each name is translated with botocore's service
model (the signing name) and `readiness.aws.ledger.iam_action`. Everything here is pure
and deterministic: statements in a fixed order, actions sorted.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, final

import botocore.session
from botocore.exceptions import UnknownServiceError

from readiness.aws.guard import LOG_EVENT_READS
from readiness.aws.ledger import iam_action
from readiness.inventory.allowlist import allow_list

PHASES: Final = ("preflight", "audit", "postdeploy", "deploy")
VERSION: Final = "2012-10-17"
# The pytest phases a deploy runs: its own, and the audit its Phase 3 runs again.
DEPLOY_READS_OF: Final = ("deploy", "audit")
READS_SID: Final = "ReadinessReads"
LOG_EVENTS_SID: Final = "ReadinessTriageLogEvents"
WRITES_SID: Final = "ReadinessDeployWrites"


class PolicyError(ValueError):
    """A phase or a declared name no policy can be made of; the message names it."""


@final
@dataclass(frozen=True, slots=True)
class DeploySends:
    """What the deploy steps send besides the collectors' reads (`service:Operation`)."""

    reads: frozenset[str] = frozenset()
    writes: frozenset[str] = frozenset()


@functools.cache
def _signing_name(service: str) -> str:
    try:
        model = _botocore().get_service_model(service)
    except UnknownServiceError:
        raise PolicyError(f"{service!r} is not an AWS service botocore knows") from None
    return str(model.signing_name)


@functools.cache
def _botocore() -> botocore.session.Session:
    return botocore.session.get_session()


def iam_action_of(name: str) -> str:
    """The IAM action of a declared `service:Operation` (e.g. elbv2:DescribeTags ->
    elasticloadbalancing:DescribeTags)."""
    service, _, operation = name.partition(":")
    if not service or not operation:
        raise PolicyError(f"{name!r} is not service:Operation")
    return iam_action(service, _signing_name(service), operation)


def actions(names: Iterable[str]) -> list[str]:
    """The IAM actions of declared names, each once, sorted."""
    return sorted({iam_action_of(name) for name in names})


def statement(sid: str, names: Iterable[str]) -> dict[str, Any]:
    return {"Sid": sid, "Effect": "Allow", "Action": actions(names), "Resource": "*"}


def document(statements: Sequence[tuple[str, Iterable[str]]]) -> dict[str, Any]:
    """An IAM policy document: one Allow statement per (Sid, names) that has any."""
    built = [statement(sid, names) for sid, names in statements]
    return {"Version": VERSION, "Statement": [s for s in built if s["Action"]]}


def phase_reads(
    phase: str, check_reads: Mapping[str, Iterable[str]] | None = None
) -> frozenset[str]:
    """Every `service:Operation` a run of `phase` reads with (deploy: its collectors' and
    the audit's; the deploy steps' own reads are not included)."""
    if phase not in PHASES:
        raise PolicyError(f"unknown phase {phase!r}: use {', '.join(PHASES)}")
    declared = check_reads or {}
    runs = DEPLOY_READS_OF if phase == "deploy" else (phase,)
    names = set(allow_list(runs))
    for ran in runs:
        names |= set(declared.get(ran, ()))
    return frozenset(names)


def phase_document(
    phase: str,
    *,
    check_reads: Mapping[str, Iterable[str]] | None = None,
    deploy: DeploySends | None = None,
) -> dict[str, Any]:
    """The complete IAM policy of one phase.

    Statements: `ReadinessReads`; for postdeploy `ReadinessTriageLogEvents` (the log
    lines the triage reads when a check fails, apart so it can be scoped to the log
    groups); for deploy `ReadinessDeployWrites` (`deploy` is required then).
    """
    reads = phase_reads(phase, check_reads)
    statements: list[tuple[str, Iterable[str]]] = [
        (READS_SID, reads - LOG_EVENT_READS),
        (LOG_EVENTS_SID, reads & LOG_EVENT_READS),
    ]
    if phase == "deploy":
        if deploy is None:
            raise PolicyError("the deploy's policy needs what the deploy steps send")
        statements[0] = (READS_SID, (reads | deploy.reads) - LOG_EVENT_READS)
        statements.append((WRITES_SID, deploy.writes))
    return document(statements)
