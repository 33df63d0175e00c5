"""One boto3 session per environment, and the clients made from it.

Clients get botocore's own retry mode with bounded attempts, connect and read
timeouts and a connection pool sized to the parallelism. Every call goes through a
guard (readiness.aws.guard) that judges and records it: in a pytest run, the run's
guard, installed for the whole process (readiness.aws.intercept); outside one, a guard
of this access's own, attached to each client it makes.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, final
from urllib.parse import urlsplit, urlunsplit

import boto3
import botocore.session
from botocore.config import Config as BotoConfig
from botocore.credentials import (
    AssumeRoleCredentialFetcher,
    DeferredRefreshableCredentials,
)

from readiness.aws import intercept
from readiness.aws.credentials import CredentialsNotFound, CredentialSource, choose_credentials
from readiness.aws.guard import Guard, Policy
from readiness.aws.ledger import Ledger
from readiness.config import Environment

GLOBAL_REGION = "us-east-1"
EMULATOR_CREDENTIALS = ("testing", "testing")
_ACCOUNT_HOST = re.compile(r"^\d{12}\.")


def _strip_account_host(request: Any, **_: Any) -> None:
    """s3control puts the account id in front of the host; a loopback endpoint has none."""
    parts = urlsplit(request.url)
    if _ACCOUNT_HOST.match(parts.netloc):
        request.url = urlunsplit(parts._replace(netloc=_ACCOUNT_HOST.sub("", parts.netloc)))


def make_session(
    env: Environment,
    emulated_endpoint: str | None,
    source: CredentialSource | None = None,
) -> boto3.Session:
    """The chosen profile or the ambient credential chain (readiness.aws.credentials),
    SSO included, and the environment's role assumed from them when it names one.

    Without `source` the choice is made here, with no `--profile` (ProfileError when
    READINESS_PROFILE names a profile no file defines)."""
    if emulated_endpoint is not None:
        key, secret = EMULATOR_CREDENTIALS
        return boto3.Session(
            aws_access_key_id=key, aws_secret_access_key=secret, region_name=env.home_region
        )
    source = source or choose_credentials(env)
    base = boto3.Session(profile_name=source.profile, region_name=env.home_region)
    if env.role_arn is None:
        return base
    source_credentials = base.get_credentials()
    if source_credentials is None:
        raise CredentialsNotFound(
            f"no AWS credentials to assume {env.role_arn} with ({source.describe()})"
        )
    extra: dict[str, Any] = {"RoleSessionName": "readiness"}
    if env.external_id:
        extra["ExternalId"] = env.external_id
    fetcher = AssumeRoleCredentialFetcher(
        client_creator=_client_creator(base, env.endpoint_url),
        source_credentials=source_credentials,
        role_arn=env.role_arn,
        extra_args=extra,
    )
    credentials = DeferredRefreshableCredentials(
        method="assume-role", refresh_using=fetcher.fetch_credentials
    )
    botocore_session = base._session
    botocore_session._credentials = credentials  # type: ignore[attr-defined]
    return boto3.Session(botocore_session=botocore_session, region_name=env.home_region)


def _client_creator(base: boto3.Session, endpoint_url: str | None) -> Callable[..., Any]:
    """The STS client that assumes the role talks to the environment's endpoint too."""
    create: Callable[..., Any] = base._session.create_client
    if endpoint_url is None:
        return create

    def create_at_endpoint(service_name: str, **kwargs: Any) -> Any:
        kwargs.setdefault("endpoint_url", endpoint_url)
        return create(service_name, **kwargs)

    return create_at_endpoint


def credential_operations(
    env: Environment, source: CredentialSource | None = None
) -> frozenset[str]:
    """The calls the environment's credential chain makes itself (assume a role, SSO, web
    identity): allowed to it, never part of a phase's allow-list or IAM policy."""
    if env.emulated:
        return frozenset()
    names: set[str] = set()
    try:
        source = source or choose_credentials(env)
        profile: dict[str, Any] = dict(
            botocore.session.Session(profile=source.profile).get_scoped_config()
        )
    except Exception:  # an unknown profile fails later, where it is reported
        profile = {}
    if env.role_arn or profile.get("role_arn"):
        names.add("sts:AssumeRole")
    if profile.get("web_identity_token_file") or os.environ.get("AWS_WEB_IDENTITY_TOKEN_FILE"):
        names.add("sts:AssumeRoleWithWebIdentity")
    if profile.get("sso_start_url") or profile.get("sso_session"):
        names |= {"sso:GetRoleCredentials", "sso-oidc:CreateToken"}
    return frozenset(names)


@final
class AwsAccess:
    """Hands out one client per (service, region), all judged by the same guard.

    `guard` is the run's guard (shared with the whole process); without one, this
    access judges its own clients by name: reads only, unless `read_only` is False.
    `credentials`: the source chosen for the run (readiness.aws.credentials); without
    one it is chosen here, with no `--profile`.
    """

    __slots__ = (
        "_clients",
        "_lock",
        "_shared",
        "endpoint_url",
        "env",
        "guard",
        "ledger",
        "read_only",
        "session",
    )

    def __init__(
        self,
        env: Environment,
        *,
        endpoint_url: str | None,
        read_only: bool,
        ledger: Ledger | None = None,
        session: boto3.Session | None = None,
        guard: Guard | None = None,
        credentials: CredentialSource | None = None,
    ) -> None:
        self.env = env
        self.endpoint_url = endpoint_url
        self.read_only = read_only
        self._shared = guard is not None
        if guard is None:
            guard = Guard(Policy.by_name(writes=not read_only), ledger or Ledger())
        self.guard = guard
        self.ledger = guard.ledger
        emulated = endpoint_url if env.emulated else None
        self.session = session or make_session(env, emulated, credentials)
        self._clients: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()

    def writer(self) -> AwsAccess:
        """The same session and ledger, allowed to write: for the deploy steps only.

        Under the run's guard it is that guard that decides: only a deploy run writes.
        """
        return AwsAccess(
            self.env,
            endpoint_url=self.endpoint_url,
            read_only=False,
            ledger=self.ledger,
            session=self.session,
            guard=self.guard if self._shared else None,
        )

    @contextmanager
    def permit(self, names: Iterable[str]) -> Iterator[None]:
        """Let the scoped operations among `names` through (the triage's log reads)."""
        with self.guard.permit(names):
            yield

    def botocore_config(self) -> BotoConfig:
        env = self.env
        return BotoConfig(
            retries={"mode": "standard", "total_max_attempts": env.max_attempts},
            connect_timeout=env.connect_timeout_s,
            read_timeout=env.read_timeout_s,
            max_pool_connections=max(10, env.parallelism),
            user_agent_extra="readiness",
        )

    def client(self, service: str, region: str | None = None) -> Any:
        region = region or self.env.home_region
        if region == "global":
            region = GLOBAL_REGION
        key = (service, region)
        with self._lock:
            client = self._clients.get(key)
            if client is None:
                client = self.session.client(
                    service,  # type: ignore[call-overload]
                    region_name=region,
                    endpoint_url=self.endpoint_url,
                    config=self.botocore_config(),
                )
                self._wire(client, service, region)
                self._clients[key] = client
        return client

    def _wire(self, client: Any, service: str, region: str) -> None:
        guard = self.guard

        def guarded(operation_name: str, api_params: dict[str, Any]) -> Any:
            forward = type(client)._make_api_call
            if intercept.covers(guard):  # the process-wide hook judges it already
                return forward(client, operation_name, api_params)
            return guard.send(client, operation_name, api_params, forward)

        # Every operation method, paginator and waiter of this client calls this first.
        client._make_api_call = guarded
        if service == "s3control" and self.endpoint_url:
            client.meta.events.register("before-send.s3-control", _strip_account_host)
