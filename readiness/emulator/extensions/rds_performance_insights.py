"""RDS Performance Insights: moto accepts the settings on create and modify but never
returns them. This patch keeps them on the DB instance and lets DescribeDBInstances
report them the way AWS does:

- `PerformanceInsightsEnabled` is always there (false by default);
- when enabled, `PerformanceInsightsRetentionPeriod` (7 unless given) and
  `PerformanceInsightsKMSKeyId` (the region's `aws/rds` key unless given) are there too;
- a retention period other than 7, a multiple of 31 up to 713, or 731 is refused with
  InvalidParameterValue, before anything changes.
"""

from __future__ import annotations

import functools
import uuid
from typing import Any

from readiness.emulator.registry import Registry

ENABLE = "enable_performance_insights"
RETENTION = "performance_insights_retention_period"
KMS_KEY = "performance_insights_kms_key_id"
ENABLED_ATTR = "performance_insights_enabled"
DEFAULT_RETENTION = 7
_MARK = "_readiness_performance_insights"


def valid_retention(days: int) -> bool:
    """7 (free tier), a whole number of months (31 days each) up to 23, or 731 (2 years)."""
    return days in (DEFAULT_RETENTION, 731) or (days % 31 == 0 and 31 <= days <= 713)


def _flag(value: Any) -> bool | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value)


def _default_key_arn(account: str, region: str) -> str:
    """A stable stand-in for the region's AWS managed `aws/rds` key (no KMS key is made)."""
    key_id = uuid.uuid5(uuid.NAMESPACE_URL, f"kms:{account}:{region}:alias/aws/rds")
    return f"arn:aws:kms:{region}:{account}:key/{key_id}"


def _key_arn(given: str, account: str, region: str) -> str:
    """AWS reports the key as an ARN whatever form it was given in."""
    if given.startswith("arn:"):
        return given
    if given.startswith("alias/"):
        return f"arn:aws:kms:{region}:{account}:{given}"
    return f"arn:aws:kms:{region}:{account}:key/{given}"


def _requested(kwargs: dict[str, Any]) -> tuple[bool | None, int | None, str | None]:
    """Take our three parameters out of moto's keyword arguments, validated."""
    from moto.rds.exceptions import InvalidParameterValue

    enable = _flag(kwargs.pop(ENABLE, None))
    raw_retention = kwargs.pop(RETENTION, None)
    key = kwargs.pop(KMS_KEY, None)
    retention: int | None = None
    if raw_retention is not None:
        try:
            retention = int(raw_retention)
        except (TypeError, ValueError):
            retention = -1
        if not valid_retention(retention):
            raise InvalidParameterValue(
                f"Invalid Performance Insights retention period: {raw_retention}. Valid values "
                "are 7, month * 31 (where month is a number of months from 1-23), and 731."
            )
    return enable, retention, (str(key) if key else None)


def _apply(db: Any, enable: bool | None, retention: int | None, key: str | None) -> None:
    """Set the three attributes moto's serializer reads (None: left out of the answer)."""
    enabled = bool(getattr(db, ENABLED_ATTR, False)) if enable is None else enable
    if not enabled:
        db.performance_insights_enabled = False
        db.performance_insights_retention_period = None
        db.performance_insights_kms_key_id = None
        return
    current_retention = getattr(db, RETENTION, None)
    db.performance_insights_enabled = True
    db.performance_insights_retention_period = retention or current_retention or DEFAULT_RETENTION
    account, region = str(db.account_id), str(db.region)
    current_key = getattr(db, KMS_KEY, None)
    if key:
        db.performance_insights_kms_key_id = _key_arn(key, account, region)
    else:
        db.performance_insights_kms_key_id = current_key or _default_key_arn(account, region)


def patch_db_instance(cls: Any) -> bool:
    """Patch moto's DBInstance in place; False if it already reports the setting itself."""
    if getattr(cls, _MARK, False):
        return True
    if ENABLED_ATTR in vars(cls) or not callable(getattr(cls, "update", None)):
        return False
    original_init = cls.__init__
    original_update = cls.update

    @functools.wraps(original_init)
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        settings = _requested(kwargs)
        original_init(self, *args, **kwargs)
        _apply(self, *settings)

    @functools.wraps(original_update)
    def update(self: Any, *args: Any, **kwargs: Any) -> Any:
        settings = _requested(kwargs)
        result = original_update(self, *args, **kwargs)
        if any(s is not None for s in settings):
            _apply(self, *settings)
        return result

    cls.__init__ = __init__
    cls.update = update
    # Class-level defaults: what an instance made by any other path reports.
    cls.performance_insights_enabled = False
    cls.performance_insights_retention_period = None
    cls.performance_insights_kms_key_id = None
    setattr(cls, _MARK, True)
    return True


def install(registry: Registry) -> None:
    from moto.rds.models import DBInstance

    patch_db_instance(DBInstance)
