"""Talking to a running emulator: boto3 clients pointed at it, and its control calls."""

from __future__ import annotations

import json
import urllib.request
from typing import Any, final

import boto3
from botocore.config import Config as BotoConfig

EMULATOR_ACCOUNT = "123456789012"


class ControlError(Exception):
    """The emulator refused a control call."""


@final
class EmulatorControl:
    __slots__ = ("_session", "endpoint")

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint.rstrip("/")
        self._session = boto3.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
        )

    def client(self, service: str, region: str = "us-east-1") -> Any:
        """A writable client for seeding and tests (no guard, no ledger)."""
        return self._session.client(
            service,  # type: ignore[call-overload]
            region_name=region,
            endpoint_url=self.endpoint,
            config=BotoConfig(retries={"mode": "standard", "total_max_attempts": 2}),
        )

    def _post(self, path: str, payload: dict[str, Any]) -> Any:
        request = urllib.request.Request(
            f"{self.endpoint}{path}",
            data=json.dumps(payload, default=str).encode(),
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                body = response.read()
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode(errors="replace")
            raise ControlError(f"{path}: HTTP {exc.code}: {detail}") from None
        return json.loads(body) if body else None

    def call(self, name: str, **payload: Any) -> Any:
        """Invoke `/_readiness/<name>` with a JSON payload; return its result."""
        answer = self._post(f"/_readiness/{name}", payload)
        return answer.get("result") if isinstance(answer, dict) else answer

    def reset(self) -> None:
        """Clear moto and the extensions' data."""
        self._post("/moto-api/reset", {})
