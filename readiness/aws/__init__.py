"""AWS access: sessions and clients, the guard and its allow-lists, the API-call ledger."""

from readiness.aws.access import AwsAccess, credential_operations, make_session
from readiness.aws.errors import FailureKind, FetchError, classify
from readiness.aws.guard import (
    DeclarationError,
    Guard,
    Policy,
    ReadOnlyViolation,
    declare,
    is_read,
    returns_secrets,
)
from readiness.aws.ledger import Ledger

__all__ = [
    "AwsAccess",
    "DeclarationError",
    "FailureKind",
    "FetchError",
    "Guard",
    "Ledger",
    "Policy",
    "ReadOnlyViolation",
    "classify",
    "credential_operations",
    "declare",
    "is_read",
    "make_session",
    "returns_secrets",
]
