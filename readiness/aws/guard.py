"""The read-only guard: a call that is not a read fails before it is sent.

Preflight, audit and postdeploy runs only ever read. Reads that return data rather
than configuration (secret values, objects, table items) are refused as well: an audit
has no business reading them.
"""

from __future__ import annotations

from typing import Any

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
# Reads whose names do not start like one.
EXTRA_READS = frozenset({"FilterLogEvents"})


class ReadOnlyViolation(Exception):
    """A mutating (or data-reading) call was attempted in a read-only run."""


def is_read(operation: str) -> bool:
    if operation in NOT_FOR_AUDITS:
        return False
    return operation in EXTRA_READS or operation.startswith(READ_PREFIXES)


def refuse_writes(model: Any, **_: Any) -> None:
    """botocore `before-call` handler."""
    operation = str(model.name)
    if not is_read(operation):
        service = model.service_model.service_name
        raise ReadOnlyViolation(f"read-only run: refused {service}:{operation} before sending it")
