"""Memoised, paginated reads: each distinct request is made once per run.

Concurrent askers of the same request wait for the first one's answer, so collectors
running in parallel can share reads (alarms, clusters) without repeating them. Errors
are remembered too: a denied read is not asked again.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import threading
from collections.abc import Callable
from concurrent.futures import Future
from decimal import Decimal
from typing import Any, final

from readiness.aws.access import AwsAccess
from readiness.aws.errors import FetchError, classify


def to_jsonable(value: Any) -> Any:
    """boto3's answers in JSON terms: datetimes as ISO 8601 UTC, bytes as base64."""
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items() if k != "ResponseMetadata"}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode()
    if hasattr(value, "read"):  # streaming bodies are never kept
        return None
    return value


@final
class Fetcher:
    __slots__ = ("_lock", "_memo", "access")

    def __init__(self, access: AwsAccess) -> None:
        self.access = access
        self._memo: dict[str, Future[Any]] = {}
        self._lock = threading.Lock()

    def _once(self, key: str, produce: Callable[[], Any]) -> Any:
        with self._lock:
            future = self._memo.get(key)
            owner = future is None
            if future is None:
                future = Future()
                self._memo[key] = future
        if owner:
            try:
                future.set_result(produce())
            except BaseException as exc:  # remembered, then raised to every asker
                future.set_exception(exc)
        return future.result()

    @staticmethod
    def _key(kind: str, service: str, region: str, operation: str, params: dict[str, Any]) -> str:
        return json.dumps([kind, service, region, operation, params], sort_keys=True, default=str)

    def call(self, service: str, region: str, operation: str, **params: Any) -> dict[str, Any]:
        """One API call (snake_case operation name), JSON-normalised; FetchError if it fails."""

        def produce() -> dict[str, Any]:
            try:
                client = self.access.client(service, region)
                answer = getattr(client, operation)(**params)
            except Exception as exc:
                raise classify(exc, f"{service}:{operation}") from None
            result: dict[str, Any] = to_jsonable(answer)
            return result

        return self._once(self._key("call", service, region, operation, params), produce)  # type: ignore[no-any-return]

    def pages(
        self, service: str, region: str, operation: str, result_key: str, **params: Any
    ) -> list[Any]:
        """Every item under `result_key` across all pages.

        The pages themselves are memoised, so callers that read different keys of the
        same request (MetricAlarms and CompositeAlarms, say) share one set of calls.
        """
        items: list[Any] = []
        for page in self.all_pages(service, region, operation, **params):
            items.extend(page.get(result_key, []))
        return items

    def all_pages(
        self, service: str, region: str, operation: str, **params: Any
    ) -> list[dict[str, Any]]:
        """Every page of a paginated read, JSON-normalised."""

        def produce() -> list[dict[str, Any]]:
            try:
                client = self.access.client(service, region)
                if client.can_paginate(operation):
                    pages = client.get_paginator(operation).paginate(**params)
                    return [to_jsonable(page) for page in pages]
                return [to_jsonable(getattr(client, operation)(**params))]
            except Exception as exc:
                raise classify(exc, f"{service}:{operation}") from None

        return self._once(  # type: ignore[no-any-return]
            self._key("pages", service, region, operation, params), produce
        )


__all__ = ["FetchError", "Fetcher", "to_jsonable"]
