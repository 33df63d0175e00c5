"""One boto3 session per environment, and the clients made from it.

Clients get botocore's own retry mode with bounded attempts, connect and read
timeouts, a connection pool sized to the parallelism, the ledger, and (unless the
run deploys) the read-only guard.
"""

from __future__ import annotations

import re
import threading
import time
from typing import Any, final
from urllib.parse import urlsplit, urlunsplit

import boto3
from botocore.config import Config as BotoConfig
from botocore.credentials import (
    AssumeRoleCredentialFetcher,
    DeferredRefreshableCredentials,
)

from readiness.aws.guard import refuse_writes
from readiness.aws.ledger import Call, Ledger, iam_action, request_key
from readiness.config import Environment

GLOBAL_REGION = "us-east-1"
EMULATOR_CREDENTIALS = ("testing", "testing")
_ACCOUNT_HOST = re.compile(r"^\d{12}\.")


def _strip_account_host(request: Any, **_: Any) -> None:
    """s3control puts the account id in front of the host; a loopback endpoint has none."""
    parts = urlsplit(request.url)
    if _ACCOUNT_HOST.match(parts.netloc):
        request.url = urlunsplit(parts._replace(netloc=_ACCOUNT_HOST.sub("", parts.netloc)))


def make_session(env: Environment, emulated_endpoint: str | None) -> boto3.Session:
    """The standard credential chain (profiles and SSO included), or an assumed role."""
    if emulated_endpoint is not None:
        key, secret = EMULATOR_CREDENTIALS
        return boto3.Session(
            aws_access_key_id=key, aws_secret_access_key=secret, region_name=env.home_region
        )
    base = boto3.Session(profile_name=env.profile, region_name=env.home_region)
    if env.role_arn is None:
        return base
    extra: dict[str, Any] = {"RoleSessionName": "readiness"}
    if env.external_id:
        extra["ExternalId"] = env.external_id
    fetcher = AssumeRoleCredentialFetcher(
        client_creator=base._session.create_client,
        source_credentials=base.get_credentials(),
        role_arn=env.role_arn,
        extra_args=extra,
    )
    credentials = DeferredRefreshableCredentials(
        method="assume-role", refresh_using=fetcher.fetch_credentials
    )
    botocore_session = base._session
    botocore_session._credentials = credentials  # type: ignore[attr-defined]
    return boto3.Session(botocore_session=botocore_session, region_name=env.home_region)


@final
class AwsAccess:
    """Hands out one client per (service, region), all wired to the same ledger."""

    __slots__ = (
        "_clients",
        "_lock",
        "endpoint_url",
        "env",
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
    ) -> None:
        self.env = env
        self.endpoint_url = endpoint_url
        self.read_only = read_only
        self.ledger = ledger or Ledger()
        emulated = endpoint_url if env.emulated else None
        self.session = session or make_session(env, emulated)
        self._clients: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()

    def writer(self) -> AwsAccess:
        """The same session and ledger without the guard: for the deploy steps only."""
        return AwsAccess(
            self.env,
            endpoint_url=self.endpoint_url,
            read_only=False,
            ledger=self.ledger,
            session=self.session,
        )

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
        events = client.meta.events
        if self.read_only:
            events.register_first("before-call.*.*", refuse_writes)
        ledger = self.ledger
        read_only = self.read_only
        signing = client.meta.service_model.signing_name

        def record(model: Any, params: Any, context: dict[str, Any], **_: Any) -> None:
            operation = str(model.name)
            call = Call(
                service=service,
                region=region,
                operation=operation,
                action=iam_action(service, signing, operation),
                key=request_key(
                    service,
                    region,
                    operation,
                    [
                        params.get("url"),
                        params.get("url_path"),
                        params.get("query_string"),
                        params.get("body"),
                    ],
                ),
                read_only_run=read_only,
                started=time.perf_counter(),
            )
            context["readiness_call"] = call
            ledger.start(call)

        def done(http_response: Any, context: dict[str, Any], **_: Any) -> None:
            call = context.get("readiness_call")
            if isinstance(call, Call):
                status = getattr(http_response, "status_code", 0)
                ledger.finish(call, "ok" if status < 300 else f"http {status}")

        def failed(exception: BaseException, context: dict[str, Any], **_: Any) -> None:
            call = context.get("readiness_call")
            if isinstance(call, Call):
                ledger.finish(call, f"error {type(exception).__name__}")

        events.register("before-call.*.*", record)
        events.register("after-call.*.*", done)
        events.register("after-call-error.*.*", failed)
        if service == "s3control" and self.endpoint_url:
            events.register("before-send.s3-control", _strip_account_host)
