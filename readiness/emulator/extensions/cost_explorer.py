"""Cost Explorer figures: moto answers GetCostAndUsage only with results planted through
its static API (and empty otherwise) and does not implement GetCostForecast.

The control call `cost-explorer` plants a cost model for the account:
`{"daily_usd": float, "forecast_daily_usd": float, "since"?: "YYYY-MM-DD"}`: every day
from `since` (default: 90 days ago) up to and including today costs `daily_usd`, every
later day is forecast at `forecast_daily_usd` (`{}` removes the model). Both reads then
answer the way AWS does, for any period:

- GetCostAndUsage (`Granularity` DAILY or MONTHLY, any cost `Metrics`): one entry of
  `ResultsByTime` per day or per calendar month of the period, each with `Total` per
  metric (`Amount` as a string, `Unit` USD) and `Estimated` for the current month;
- GetCostForecast: `Total` (the sum over the period) and `ForecastResultsByTime` per day
  or month, with `MeanValue`.

Without a model GetCostAndUsage has no figure (`Total` empty in every period) and
GetCostForecast fails with DataUnavailableException, as on an account with no history.
An End not after Start, or a bad date, is ValidationException.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

from werkzeug.wrappers import Request, Response

from readiness.emulator.registry import Registry, error_response, json_response

BUCKET = "cost_explorer"
TARGET = "AWSInsightsIndexService"
GRANULARITIES = ("DAILY", "MONTHLY")


def today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def _date(value: Any) -> dt.date:
    return dt.date.fromisoformat(str(value)[:10])


def _periods(start: dt.date, end: dt.date, granularity: str) -> Iterator[tuple[dt.date, dt.date]]:
    """[start, end) cut by day or by calendar month."""
    current = start
    while current < end:
        if granularity == "DAILY":
            following = current + dt.timedelta(days=1)
        else:
            following = (current.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
        following = min(following, end)
        yield current, following
        current = following


def _money(value: float) -> dict[str, str]:
    return {"Amount": f"{value:.10f}".rstrip("0").rstrip(".") or "0", "Unit": "USD"}


class CostModel:
    def __init__(self, daily: float, forecast_daily: float, since: dt.date) -> None:
        self.daily = daily
        self.forecast_daily = forecast_daily
        self.since = since

    def actual(self, start: dt.date, end: dt.date) -> float:
        now = today()
        days = sum(1 for d, _ in _periods(start, end, "DAILY") if self.since <= d <= now)
        return days * self.daily

    def forecast(self, start: dt.date, end: dt.date) -> float:
        now = today()
        return sum(
            self.forecast_daily if d > now else self.daily for d, _ in _periods(start, end, "DAILY")
        )


class CostExplorer:
    def __init__(self, registry: Registry) -> None:
        self.registry = registry

    def _model(self) -> CostModel | None:
        models: dict[str, CostModel] = self.registry.state.bucket(BUCKET)
        return models.get("model")

    def plant(self, payload: dict[str, Any]) -> dict[str, Any]:
        models: dict[str, CostModel] = self.registry.state.bucket(BUCKET)
        if not payload:
            models.pop("model", None)
            return {"planted": False}
        since = _date(payload["since"]) if payload.get("since") else today() - dt.timedelta(90)
        daily = float(payload["daily_usd"])
        forecast = float(payload.get("forecast_daily_usd", daily))
        if daily < 0 or forecast < 0:
            raise ValueError("costs cannot be negative")
        with self.registry.state.lock:
            models["model"] = CostModel(daily, forecast, since)
        return {"planted": True, "since": since.isoformat()}

    @staticmethod
    def _period(body: dict[str, Any]) -> tuple[dt.date, dt.date, str] | Response:
        period = body.get("TimePeriod") or {}
        granularity = str(body.get("Granularity") or "MONTHLY")
        try:
            start, end = _date(period["Start"]), _date(period["End"])
        except (KeyError, ValueError):
            return error_response("ValidationException", "TimePeriod Start and End are required")
        if end <= start:
            return error_response("ValidationException", "Start date must be before End date")
        if granularity not in GRANULARITIES:
            return error_response("ValidationException", f"Granularity {granularity} unsupported")
        return start, end, granularity

    def cost_and_usage(self, request: Request, _match: re.Match[str]) -> Response:
        body = request.get_json(force=True, silent=True) or {}
        parsed = self._period(body)
        if isinstance(parsed, Response):
            return parsed
        start, end, granularity = parsed
        metrics = [str(m) for m in body.get("Metrics") or []]
        if not metrics:
            return error_response("ValidationException", "Metrics is required")
        model = self._model()
        current_month = today().replace(day=1)
        results = []
        for first, last in _periods(start, end, granularity):
            total = (
                {m: _money(model.actual(first, last)) for m in metrics} if model is not None else {}
            )
            results.append(
                {
                    "TimePeriod": {"Start": first.isoformat(), "End": last.isoformat()},
                    "Total": total,
                    "Groups": [],
                    "Estimated": first >= current_month,
                }
            )
        return json_response({"ResultsByTime": results, "DimensionValueAttributes": []})

    def cost_forecast(self, request: Request, _match: re.Match[str]) -> Response:
        body = request.get_json(force=True, silent=True) or {}
        parsed = self._period(body)
        if isinstance(parsed, Response):
            return parsed
        start, end, granularity = parsed
        if not body.get("Metric"):
            return error_response("ValidationException", "Metric is required")
        model = self._model()
        if model is None:
            return error_response(
                "DataUnavailableException", "Insufficient amount of historical data"
            )
        by_time = [
            {
                "TimePeriod": {"Start": first.isoformat(), "End": last.isoformat()},
                "MeanValue": _money(model.forecast(first, last))["Amount"],
            }
            for first, last in _periods(start, end, granularity)
        ]
        return json_response(
            {"Total": _money(model.forecast(start, end)), "ForecastResultsByTime": by_time}
        )


def install(registry: Registry) -> None:
    explorer = CostExplorer(registry)
    registry.route("ce", "POST", "/", explorer.cost_and_usage, target=f"{TARGET}.GetCostAndUsage")
    registry.route("ce", "POST", "/", explorer.cost_forecast, target=f"{TARGET}.GetCostForecast")
    registry.control("cost-explorer", explorer.plant)
