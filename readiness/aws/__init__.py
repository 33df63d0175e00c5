"""AWS access: sessions and clients, the read-only guard, the API-call ledger."""

from readiness.aws.access import AwsAccess, make_session
from readiness.aws.errors import FailureKind, FetchError, classify
from readiness.aws.guard import ReadOnlyViolation, is_read
from readiness.aws.ledger import Ledger

__all__ = [
    "AwsAccess",
    "FailureKind",
    "FetchError",
    "Ledger",
    "ReadOnlyViolation",
    "classify",
    "is_read",
    "make_session",
]
