"""Lambda functions: configuration, asynchronous-invocation settings and tags.

A record is the function's configuration (GetFunctionConfiguration, which unlike
ListFunctions includes `State` and `LastUpdateStatus`) plus `EventInvokeConfig` (the
unqualified function's destinations and retries; None when none is configured) and
`Tags`. Environment variable values are never kept: `Environment` holds only
`VariableNames`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from readiness.aws.errors import FetchError
from readiness.inventory.collect import CollectContext, Found, collector
from readiness.inventory.model import UNAVAILABLE

# What GetFunctionConfiguration adds to what ListFunctions gives.
STATE_FIELDS = ("State", "StateReason", "StateReasonCode", "LastUpdateStatus")


def without_secrets(config: dict[str, Any]) -> dict[str, Any]:
    """The configuration with environment variable values removed (names kept)."""
    out = dict(config)
    env = out.get("Environment")
    if isinstance(env, dict):
        kept = {k: v for k, v in env.items() if k != "Variables"}
        kept["VariableNames"] = sorted((env.get("Variables") or {}).keys())
        out["Environment"] = kept
    return out


def _not_configured(exc: FetchError) -> bool:
    return exc.code == "ResourceNotFoundException"


@collector(
    "lambda.functions",
    phases=("audit", "postdeploy"),
    reads=(
        "lambda:GetFunctionConfiguration",
        "lambda:GetFunctionEventInvokeConfig",
        "lambda:ListFunctions",
        "lambda:ListTags",
    ),
)
def lambda_functions(ctx: CollectContext, region: str) -> Iterable[Found]:
    """Lambda functions with state, failure destinations, DLQ and tags."""
    listed = ctx.fetch.pages("lambda", region, "list_functions", "Functions")

    def describe(summary: dict[str, Any]) -> Found:
        name = str(summary["FunctionName"])
        arn = str(summary["FunctionArn"])
        found = Found(id=name, arn=arn, data=without_secrets(summary))

        try:
            config = ctx.fetch.call(
                "lambda", region, "get_function_configuration", FunctionName=name
            )
            found.data.update(without_secrets(config))
        except FetchError as exc:  # the state fields alone are unknown
            for field_name in STATE_FIELDS:
                found.data.setdefault(UNAVAILABLE, {})[field_name] = str(exc)

        def invoke_config() -> dict[str, Any] | None:
            try:
                return ctx.fetch.call(
                    "lambda", region, "get_function_event_invoke_config", FunctionName=name
                )
            except FetchError as exc:
                if _not_configured(exc):
                    return None
                raise

        found.enrich("EventInvokeConfig", invoke_config)
        found.enrich(
            "Tags", lambda: ctx.fetch.call("lambda", region, "list_tags", Resource=arn).get("Tags")
        )
        tags = found.data.get("Tags")
        found.tags = dict(tags) if isinstance(tags, dict) else None
        return found

    return ctx.each(listed, describe)


COLLECTORS = (lambda_functions,)
