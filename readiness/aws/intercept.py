"""The guard on every botocore client of the process: installed and removed explicitly.

This module holds the one piece of process-wide state of the project:
`botocore.client.BaseClient._make_api_call` is replaced by a function that asks the
guard first. Every operation of every botocore client goes through that method: the
generated operation methods call it, and so do paginators and waiters (they call the
client's operation methods), boto3 resources and s3transfer. So it catches a client
whichever session made it (boto3's default session, a new `boto3.Session()`, the run's
own) and whenever it was made, before or after the installation.

Event handlers (`before-call`, or `botocore.handlers.BUILTIN_HANDLERS`) would not: each
client copies its session's emitter when it is created, so a client made before the
registration, or from a session that existed already, escapes, and any code can
unregister a handler from its client.

The pytest plugin installs it in `pytest_configure`, keeps the `Installation` in the
config's stash and removes it in `pytest_unconfigure`, so an in-process pytest run
leaves nothing behind.
"""

from __future__ import annotations

import functools
from typing import Any, final

from botocore.client import BaseClient

from readiness.aws.guard import Guard

_MARK = "readiness_guard"


class InstallError(RuntimeError):
    """The hook is not where this installation put it."""


@final
class Installation:
    """One installed guard; `uninstall` puts the previous method back."""

    __slots__ = ("guard", "original", "replacement")

    def __init__(self, guard: Guard, original: Any, replacement: Any) -> None:
        self.guard = guard
        self.original = original
        self.replacement = replacement


def install(guard: Guard) -> Installation:
    """Route every API call of the process through `guard` (on top of any earlier one)."""
    original = BaseClient.__dict__["_make_api_call"]

    @functools.wraps(original)
    def _make_api_call(client: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
        return guard.send(client, operation_name, api_params, original)

    setattr(_make_api_call, _MARK, guard)
    setattr(BaseClient, "_make_api_call", _make_api_call)  # noqa: B010
    return Installation(guard, original, _make_api_call)


def uninstall(installation: Installation) -> None:
    """Put back the method found at installation (the last installed goes first)."""
    current = BaseClient.__dict__.get("_make_api_call")
    if current is not installation.replacement:
        raise InstallError(
            "the AWS call guard cannot be removed: BaseClient._make_api_call was replaced "
            "after it was installed"
        )
    setattr(BaseClient, "_make_api_call", installation.original)  # noqa: B010


def covers(guard: Guard) -> bool:
    """Whether `guard` is installed for the whole process right now."""
    method: Any = BaseClient.__dict__.get("_make_api_call")
    while method is not None:
        if getattr(method, _MARK, None) is guard:
            return True
        method = getattr(method, "__wrapped__", None)
    return False
