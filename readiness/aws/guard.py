"""The guard: every AWS call is judged against the run's allow-list before it is sent.

A pytest phase (preflight, audit, postdeploy) sends only the operations declared for it:
by its collectors (`@collector(..., reads=...)`), by the credential check, by the
post-deploy triage and by checks that use the live `aws` fixture
(`@pytest.mark.aws_reads(...)`). The deploy (`-m deploy` exactly) may also write. Every
call, sent or refused, is recorded in the ledger; a refused one makes the run NO-GO,
whatever the code that made it did with the exception.

Operations that return secret values (parameters, secret strings, decrypted data,
object bodies, table items, temporary credentials) are never allowed, and declaring one
is an error. Log-event reads are allowed only to the post-deploy triage, and only inside
`Guard.permit`.

Outside a pytest phase (the CLI's dry runs and notifications), a read-only access has
no declarations to go by: it sends what reads by its name and refuses the rest.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any, final

from botocore.exceptions import ClientError

from readiness.aws.ledger import REFUSED, Call, Grant, Ledger, iam_action, request_key

# service:Operation patterns (API operation names) that return secret values.
SECRET_READS: tuple[str, ...] = (
    "ssm:GetParameter*",
    "ssm:GetSecret*",
    "secretsmanager:GetSecretValue",
    "secretsmanager:BatchGetSecretValue",
    "secretsmanager:GetRandomPassword",
    "kms:Decrypt",
    "kms:ReEncrypt*",
    "kms:GenerateDataKey*",
    "kms:GenerateRandom",
    "s3:GetObject*",
    "s3:SelectObjectContent",
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
    "dynamodb:Scan",
    "dynamodb:ExecuteStatement",
    "dynamodb:BatchExecuteStatement",
    "kinesis:GetRecords",
    "kinesis:GetShardIterator",
    "sqs:ReceiveMessage",
    "lambda:GetFunction",
    "lambda:Invoke*",
    "ec2:GetPasswordData",
    "ec2:GetConsoleOutput",
    "ecr:GetAuthorizationToken",
    "ecr:GetDownloadUrlForLayer",
    "ecr:BatchGetImage",
    "sts:GetSessionToken",
    "sts:GetFederationToken",
    "rds:DownloadDBLogFilePortion",
    "rds:DownloadCompleteDBLogFile",
    "athena:GetQueryResults",
    "logs:GetQueryResults",
    "codecommit:GetBlob",
    "codecommit:GetFile",
    "apigateway:GetApiKey*",
)
LOG_EVENT_READS = frozenset(
    {"logs:FilterLogEvents", "logs:GetLogEvents", "logs:GetLogRecord", "logs:StartLiveTail"}
)
_NAME = re.compile(r"^[a-z0-9][a-z0-9-]*:[A-Z][A-Za-z0-9]*$")

# Outside a pytest phase: reads by the shape of their name.
READ_PREFIXES = ("Describe", "List", "Get", "BatchGet", "Lookup", "Search", "Head")
NOT_FOR_AUDITS = frozenset(
    {
        "GetSecretValue",
        "BatchGetSecretValue",
        "GetObject",
        "GetObjectAcl",
        "GetObjectTorrent",
        "GetParameter",
        "GetParameters",
        "GetParametersByPath",
        "GetParameterHistory",
        "GetRandomPassword",
        "GetSessionToken",
        "GetFederationToken",
        "GetAuthorizationToken",
        "GetItem",
        "BatchGetItem",
        "GetRecords",
        "GetShardIterator",
        "GetLogEvents",
        "GetQueryResults",
        "GetDataKey",
    }
)
EXTRA_READS = frozenset({"FilterLogEvents"})


class ReadOnlyViolation(Exception):
    """A call the run's allow-list does not hold was stopped before it was sent."""


class DeclarationError(ValueError):
    """A declared operation is malformed or may never be allowed."""


def is_read(operation: str) -> bool:
    """Whether an operation reads, by its name (used only outside a pytest phase)."""
    if operation in NOT_FOR_AUDITS:
        return False
    return operation in EXTRA_READS or operation.startswith(READ_PREFIXES)


def returns_secrets(name: str) -> bool:
    """`service:Operation` returns secret values: never on any allow-list."""
    return any(fnmatchcase(name, pattern) for pattern in SECRET_READS)


def declare(owner: str, reads: Iterable[str], *, log_events: bool = False) -> frozenset[str]:
    """Check a declaration of `service:Operation` names; DeclarationError names the owner.

    Only the post-deploy triage passes `log_events=True`.
    """
    if isinstance(reads, str):
        raise DeclarationError(f"{owner}: reads must be a sequence of names, not one string")
    names = frozenset(reads)
    for name in sorted(names):
        if not _NAME.match(name):
            raise DeclarationError(
                f"{owner}: {name!r} is not service:Operation (e.g. rds:DescribeDBInstances)"
            )
        if returns_secrets(name):
            raise DeclarationError(
                f"{owner}: {name} returns secret values and is never allowed in a run"
            )
        if name in LOG_EVENT_READS and not log_events:
            raise DeclarationError(
                f"{owner}: {name} reads log events: only the post-deploy triage may do that"
            )
    return names


@final
@dataclass(frozen=True, slots=True)
class Policy:
    """What a run may send.

    `reads` is the allow-list (None: any read by its name, outside a pytest phase);
    `scoped` operations are allowed only inside `Guard.permit`; `credentials` are the
    calls the credential chain makes (never in an IAM policy); `writes` lets anything
    else through that returns no secret (the deploy).
    """

    label: str
    reads: frozenset[str] | None
    scoped: frozenset[str] = frozenset()
    credentials: frozenset[str] = frozenset()
    writes: bool = False

    @classmethod
    def by_name(cls, *, writes: bool) -> Policy:
        return cls("writer" if writes else "read-only", None, scoped=LOG_EVENT_READS, writes=writes)

    @property
    def mode(self) -> str:
        return "deploy run" if self.writes else "read-only run"

    def judge(self, name: str, operation: str, granted: frozenset[str]) -> Grant | None:
        """How the call is allowed, or None when it is refused."""
        if returns_secrets(name):
            return None
        if name in self.scoped:
            return "read" if name in granted else None
        if name in self.credentials:
            return "credentials"
        if self.reads is None:
            if is_read(operation) and name not in LOG_EVENT_READS:
                return "read"
        elif name in self.reads:
            return "read"
        return "write" if self.writes else None

    def with_reads(self, names: Iterable[str]) -> Policy:
        extra = frozenset(names)
        return Policy(
            self.label,
            None if self.reads is None else self.reads | extra,
            self.scoped,
            self.credentials,
            self.writes,
        )

    def with_credentials(self, names: Iterable[str]) -> Policy:
        return Policy(
            self.label, self.reads, self.scoped, self.credentials | frozenset(names), self.writes
        )


Forward = Callable[[Any, str, dict[str, Any]], Any]


@final
@dataclass(slots=True, eq=False)
class Guard:
    """Judges and records every call; one per run (or per stand-alone AwsAccess)."""

    policy: Policy
    ledger: Ledger = field(default_factory=Ledger)
    current_test: str | None = None
    _local: threading.local = field(default_factory=threading.local, repr=False)

    def allow(self, names: Iterable[str]) -> None:
        """Add declared reads (validated by `declare`) to the allow-list."""
        self.policy = self.policy.with_reads(names)

    def allow_credentials(self, names: Iterable[str]) -> None:
        self.policy = self.policy.with_credentials(names)

    @contextmanager
    def permit(self, names: Iterable[str]) -> Iterator[None]:
        """Let this thread send the scoped operations among `names` (others stay refused)."""
        before: frozenset[str] = getattr(self._local, "granted", frozenset())
        self._local.granted = before | (frozenset(names) & self.policy.scoped)
        try:
            yield
        finally:
            self._local.granted = before

    def send(self, client: Any, operation: str, params: dict[str, Any], forward: Forward) -> Any:
        """Judge, record, then (if allowed) make the call with `forward`."""
        model = client.meta.service_model
        service = str(model.service_name)
        region = str(client.meta.region_name or "")
        name = f"{service}:{operation}"
        policy = self.policy
        grant = policy.judge(name, operation, getattr(self._local, "granted", frozenset()))
        call = Call(
            service=service,
            region=region,
            operation=operation,
            action=iam_action(service, str(model.signing_name), operation),
            key=request_key(service, region, operation, params),
            read_only_run=not policy.writes,
            started=time.perf_counter(),
            grant=grant or REFUSED,
            called_from=self.current_test or "",
        )
        self.ledger.start(call)
        if grant is None:
            self.ledger.finish(call, REFUSED)
            why = " (it returns secret values)" if returns_secrets(name) else ""
            raise ReadOnlyViolation(f"{policy.mode}: refused {name} before sending it{why}")
        try:
            answer = forward(client, operation, params)
        except ClientError as exc:
            meta = exc.response.get("ResponseMetadata", {})
            self.ledger.finish(call, f"http {meta.get('HTTPStatusCode', '?')}")
            raise
        except BaseException as exc:
            self.ledger.finish(call, f"error {type(exc).__name__}")
            raise
        self.ledger.finish(call, "ok")
        return answer
