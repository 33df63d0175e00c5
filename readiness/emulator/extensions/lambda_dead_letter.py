"""Lambda functions keep their dead-letter queue, as AWS does.

moto accepts `DeadLetterConfig` on CreateFunction and UpdateFunctionConfiguration and
forgets it: GetFunction, GetFunctionConfiguration and ListFunctions never return it, so
a function with a DLQ would read as one without. Here the function keeps it and every
configuration answer carries `DeadLetterConfig: {"TargetArn": ...}`; an update with an
empty `TargetArn` removes it (AWS's way to clear it).
"""

from __future__ import annotations

from typing import Any

from readiness.emulator.registry import Registry

_MARK = "_readiness_dead_letter"
_ATTRIBUTE = "readiness_dead_letter_target"


def _target(config: Any) -> str | None:
    if isinstance(config, dict):
        target = config.get("TargetArn")
        if isinstance(target, str) and target:
            return target
    return None


def _patch() -> None:
    from moto.awslambda.models import LambdaFunction

    original_init = LambdaFunction.__init__
    original_get = LambdaFunction.get_configuration
    original_update = LambdaFunction.update_configuration

    def __init__(self: Any, account_id: str, spec: dict[str, Any], *args: Any, **kw: Any) -> None:
        original_init(self, account_id, spec, *args, **kw)
        setattr(self, _ATTRIBUTE, _target(spec.get("DeadLetterConfig")))

    def get_configuration(self: Any, *args: Any, **kw: Any) -> dict[str, Any]:
        config: dict[str, Any] = original_get(self, *args, **kw)
        target = getattr(self, _ATTRIBUTE, None)
        if target:
            config["DeadLetterConfig"] = {"TargetArn": target}
        return config

    def update_configuration(self: Any, config_updates: dict[str, Any]) -> dict[str, Any]:
        if "DeadLetterConfig" in config_updates:
            setattr(self, _ATTRIBUTE, _target(config_updates["DeadLetterConfig"]))
        updated: dict[str, Any] = original_update(self, config_updates)
        return updated

    owner: Any = LambdaFunction
    owner.__init__ = __init__
    owner.get_configuration = get_configuration
    owner.update_configuration = update_configuration
    setattr(owner, _MARK, True)


def install(registry: Registry) -> None:
    from moto.awslambda.models import LambdaFunction

    if not getattr(LambdaFunction, _MARK, False):  # moto's classes are patched once per process
        _patch()
