"""IAM enforcement that judges who sends a request and what they may do, not its signature.

moto enforces IAM once `INITIAL_NO_AUTH_ACTION_COUNT` requests have been served (the
environment variable, or `POST /moto-api/reset-auth` with the new count, which also
restarts the count): a request signed with an IAM user's access key is then allowed
only what that user's policies allow, and answered AccessDenied otherwise. Before it
looks at the policies, moto recomputes the request's SigV4 signature, and that step
fails for requests that are correctly signed:

- a GET of a REST service (Lambda ListFunctions, GuardDuty ListDetectors, Backup,
  Security Hub, ...): moto signs the request's headers as if they were its body;
- S3 Control: the account id in front of the host is removed after signing, to reach
  a loopback endpoint (readiness.aws.access).

This patch leaves out that recomputation and keeps the rest: the access key must be
one moto issued (an unknown key is refused), and the action must be allowed. It changes
nothing while enforcement is off, which is the default.
"""

from __future__ import annotations

from typing import Any

from readiness.emulator.registry import Registry

_MARK = "_readiness_signature_not_recomputed"


def _patch() -> None:
    from moto.iam.access_control import IAMRequestBase

    def check_signature(self: Any) -> None:
        """The key is checked when the request is made (IAMRequestBase.__init__)."""

    IAMRequestBase.check_signature = check_signature  # type: ignore[method-assign]
    setattr(IAMRequestBase, _MARK, True)


def install(registry: Registry) -> None:
    from moto.iam.access_control import IAMRequestBase

    if not getattr(IAMRequestBase, _MARK, False):  # moto's classes are patched once per process
        _patch()
