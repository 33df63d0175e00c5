"""Why a read failed, in words a report can show: access denied, unsupported, throttled."""

from __future__ import annotations

from enum import StrEnum
from typing import final

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    ReadTimeoutError,
)

from readiness.aws.guard import ReadOnlyViolation

_DENIED = {
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "UnauthorizedAccess",
    "UnauthorizedException",
    "AuthorizationError",
    "AuthorizationErrorException",
    "Forbidden",
    "OptInRequired",
    "SubscriptionRequiredException",
}
_THROTTLED = {
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestLimitExceeded",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "RequestThrottled",
    "SlowDown",
    "LimitExceededException",
}
_UNSUPPORTED = {
    "InvalidAction",
    "UnknownOperationException",
    "NotImplemented",
    "UnsupportedOperation",
    "UnsupportedOperationException",
    "InvalidClientTokenId",
}
_CREDENTIALS = {
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidClientTokenId",
    "SignatureDoesNotMatch",
    "UnrecognizedClientException",
    "InvalidAccessKeyId",
    "RequestExpired",
}


class FailureKind(StrEnum):
    ACCESS_DENIED = "access denied"
    THROTTLED = "throttled"
    UNSUPPORTED = "not supported here"
    UNREACHABLE = "unreachable"
    CREDENTIALS = "credentials rejected"
    REFUSED = "refused by the read-only guard"
    FAILED = "failed"


@final
class FetchError(Exception):
    """A read that could not be made; the checks that needed it are not-evaluated."""

    def __init__(self, kind: FailureKind, operation: str, detail: str, code: str = "") -> None:
        super().__init__(f"{operation}: {kind.value}: {detail}")
        self.kind = kind
        self.operation = operation
        self.detail = detail
        self.code = code  # the AWS error code, when AWS answered with one


def error_code(exc: BaseException) -> str:
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", ""))
    return type(exc).__name__


def classify(exc: BaseException, operation: str) -> FetchError:
    """Turn any exception from a botocore call into a FetchError with a reason."""
    if isinstance(exc, FetchError):
        return exc
    if isinstance(exc, ReadOnlyViolation):
        return FetchError(FailureKind.REFUSED, operation, str(exc))
    if isinstance(exc, ClientError):
        code = error_code(exc)
        message = str(exc.response.get("Error", {}).get("Message", ""))[:300]
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
        if code in _CREDENTIALS:
            kind = FailureKind.CREDENTIALS
        elif code in _DENIED or status == 403:
            kind = FailureKind.ACCESS_DENIED
        elif code in _THROTTLED or status == 429:
            kind = FailureKind.THROTTLED
        elif code in _UNSUPPORTED or status == 501 or "not yet implemented" in message.lower():
            kind = FailureKind.UNSUPPORTED
        else:
            kind = FailureKind.FAILED
        return FetchError(kind, operation, f"{code or status}: {message}".strip(": "), code)
    if isinstance(exc, NoCredentialsError | NoRegionError):
        return FetchError(FailureKind.CREDENTIALS, operation, str(exc))
    if isinstance(
        exc,
        EndpointConnectionError | ConnectTimeoutError | ReadTimeoutError | ConnectionClosedError,
    ):
        return FetchError(FailureKind.UNREACHABLE, operation, str(exc))
    if isinstance(exc, NotImplementedError):
        return FetchError(FailureKind.UNSUPPORTED, operation, "not implemented")
    if isinstance(exc, BotoCoreError):
        return FetchError(FailureKind.FAILED, operation, str(exc))
    return FetchError(FailureKind.FAILED, operation, f"{type(exc).__name__}: {exc}")
