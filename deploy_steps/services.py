"""Phase 2: the service changes the seed's scripts make, each read before it is written.

- RDS Performance Insights on, with a valid retention (enable-rds-performance-insights.sh);
- ECS deployment circuit breaker with rollback (enable-ecs-circuit-breaker.sh);
- DynamoDB TTL on the configured attribute (apply-dynamodb-ttl.sh).

Each kind reads the current value, says what it wants, applies it and reverts to a
journalled value. A value that is already right is left alone, so a second deploy
changes nothing (and TTL, which AWS lets change once an hour, is not touched twice).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, final

from botocore.exceptions import BotoCoreError, ClientError

from readiness.aws.access import AwsAccess
from readiness.aws.guard import declare
from readiness.config import ServiceChanges


class ServiceError(Exception):
    """A service value cannot be read or changed; the message names the resource."""


def _call(what: str, fn: Callable[..., Any], **kwargs: Any) -> Any:
    try:
        return fn(**kwargs)
    except ClientError as exc:
        error = exc.response.get("Error", {})
        raise ServiceError(
            f"{what}: {error.get('Code', 'error')}: {error.get('Message', exc)}"
        ) from None
    except BotoCoreError as exc:
        raise ServiceError(f"{what}: {exc}") from None


class ChangeKind(Protocol):
    name: str
    # Every operation read() and write() send (service:Operation): the deploy's IAM policy.
    reads: frozenset[str]
    writes: frozenset[str]

    def label(self, target: dict[str, Any]) -> str: ...

    def read(self, aws: AwsAccess, target: dict[str, Any]) -> dict[str, Any]: ...

    def wanted(self, current: dict[str, Any], target: dict[str, Any]) -> dict[str, Any] | None:
        """The value to set, or None when the current one is already right."""

    def write(self, aws: AwsAccess, target: dict[str, Any], value: dict[str, Any]) -> None: ...


@final
class PerformanceInsights:
    name = "performance_insights"
    reads = declare("Phase 2 performance_insights", ("rds:DescribeDBInstances",))
    writes = declare("Phase 2 performance_insights", ("rds:ModifyDBInstance",))

    def label(self, target: dict[str, Any]) -> str:
        return f"rds:{target['region']}/{target['db_instance']}"

    def read(self, aws: AwsAccess, target: dict[str, Any]) -> dict[str, Any]:
        rds = aws.client("rds", target["region"])
        answer = _call(
            f"{self.label(target)}: DescribeDBInstances",
            rds.describe_db_instances,
            DBInstanceIdentifier=target["db_instance"],
        )
        instances = answer.get("DBInstances") or []
        if not instances:
            raise ServiceError(f"{self.label(target)}: no such DB instance")
        db = instances[0]
        if "PerformanceInsightsEnabled" not in db:
            raise ServiceError(f"{self.label(target)}: PerformanceInsightsEnabled not reported")
        enabled = bool(db["PerformanceInsightsEnabled"])
        retention = db.get("PerformanceInsightsRetentionPeriod") if enabled else None
        return {"enabled": enabled, "retention_days": retention}

    def wanted(self, current: dict[str, Any], target: dict[str, Any]) -> dict[str, Any] | None:
        days = int(target["retention_days"])
        have = current.get("retention_days")
        if current.get("enabled") and isinstance(have, int) and have >= days:
            return None  # a longer retention than asked is kept: shortening loses history
        return {"enabled": True, "retention_days": days}

    def write(self, aws: AwsAccess, target: dict[str, Any], value: dict[str, Any]) -> None:
        rds = aws.client("rds", target["region"])
        params: dict[str, Any] = {
            "DBInstanceIdentifier": target["db_instance"],
            "EnablePerformanceInsights": bool(value["enabled"]),
            "ApplyImmediately": True,
        }
        if value["enabled"] and value.get("retention_days"):
            params["PerformanceInsightsRetentionPeriod"] = int(value["retention_days"])
        _call(f"{self.label(target)}: ModifyDBInstance", rds.modify_db_instance, **params)


@final
class CircuitBreaker:
    name = "circuit_breaker"
    reads = declare("Phase 2 circuit_breaker", ("ecs:DescribeServices",))
    writes = declare("Phase 2 circuit_breaker", ("ecs:UpdateService",))

    def label(self, target: dict[str, Any]) -> str:
        return f"ecs:{target['region']}/{target['cluster']}/{target['service']}"

    def _service(self, aws: AwsAccess, target: dict[str, Any]) -> dict[str, Any]:
        ecs = aws.client("ecs", target["region"])
        answer = _call(
            f"{self.label(target)}: DescribeServices",
            ecs.describe_services,
            cluster=target["cluster"],
            services=[target["service"]],
        )
        services = [s for s in answer.get("services") or [] if s.get("status") != "INACTIVE"]
        if not services:
            raise ServiceError(f"{self.label(target)}: no such (active) ECS service")
        return dict(services[0])

    def read(self, aws: AwsAccess, target: dict[str, Any]) -> dict[str, Any]:
        config = self._service(aws, target).get("deploymentConfiguration") or {}
        breaker = config.get("deploymentCircuitBreaker") or {}
        return {
            "enable": bool(breaker.get("enable", False)),
            "rollback": bool(breaker.get("rollback", False)),
        }

    def wanted(self, current: dict[str, Any], target: dict[str, Any]) -> dict[str, Any] | None:
        if current.get("enable") and current.get("rollback"):
            return None
        return {"enable": True, "rollback": True}

    def write(self, aws: AwsAccess, target: dict[str, Any], value: dict[str, Any]) -> None:
        config = dict(self._service(aws, target).get("deploymentConfiguration") or {})
        # UpdateService replaces the object: keep the percentages it has.
        kept = {k: config[k] for k in ("maximumPercent", "minimumHealthyPercent") if k in config}
        ecs = aws.client("ecs", target["region"])
        _call(
            f"{self.label(target)}: UpdateService",
            ecs.update_service,
            cluster=target["cluster"],
            service=target["service"],
            deploymentConfiguration={
                **kept,
                "deploymentCircuitBreaker": {
                    "enable": bool(value["enable"]),
                    "rollback": bool(value["rollback"]),
                },
            },
        )


@final
class TimeToLive:
    name = "ttl"
    reads = declare("Phase 2 ttl", ("dynamodb:DescribeTimeToLive",))
    writes = declare("Phase 2 ttl", ("dynamodb:UpdateTimeToLive",))

    def label(self, target: dict[str, Any]) -> str:
        return f"dynamodb:{target['region']}/{target['table']}"

    def read(self, aws: AwsAccess, target: dict[str, Any]) -> dict[str, Any]:
        ddb = aws.client("dynamodb", target["region"])
        answer = _call(
            f"{self.label(target)}: DescribeTimeToLive",
            ddb.describe_time_to_live,
            TableName=target["table"],
        )
        ttl = answer.get("TimeToLiveDescription") or {}
        status = str(ttl.get("TimeToLiveStatus", "DISABLED"))
        return {"status": status, "attribute": ttl.get("AttributeName")}

    def wanted(self, current: dict[str, Any], target: dict[str, Any]) -> dict[str, Any] | None:
        attribute = target["attribute"]
        status = current.get("status")
        if status in ("ENABLED", "ENABLING"):
            if current.get("attribute") == attribute:
                return None
            raise ServiceError(
                f"{self.label(target)}: TTL is on attribute {current.get('attribute')!r}, not "
                f"{attribute!r}; a table has one TTL attribute: disable it first (AWS then "
                "allows the next change after an hour)"
            )
        if status == "DISABLING":
            raise ServiceError(
                f"{self.label(target)}: TTL is being disabled; AWS allows the next change "
                "within an hour"
            )
        return {"status": "ENABLED", "attribute": attribute}

    def write(self, aws: AwsAccess, target: dict[str, Any], value: dict[str, Any]) -> None:
        ddb = aws.client("dynamodb", target["region"])
        enable = value["status"] in ("ENABLED", "ENABLING")
        attribute = value.get("attribute") or target["attribute"]
        if not enable:
            current = self.read(aws, target)
            attribute = current.get("attribute") or attribute
        _call(
            f"{self.label(target)}: UpdateTimeToLive",
            ddb.update_time_to_live,
            TableName=target["table"],
            TimeToLiveSpecification={"Enabled": enable, "AttributeName": attribute},
        )


KINDS: dict[str, ChangeKind] = {
    kind.name: kind for kind in (PerformanceInsights(), CircuitBreaker(), TimeToLive())
}
# What Phase 2 (and the rollback of its changes) sends, whichever kinds are configured.
READS: frozenset[str] = frozenset().union(*(kind.reads for kind in KINDS.values()))
WRITES: frozenset[str] = frozenset().union(*(kind.writes for kind in KINDS.values()))


def same(kind: str, current: dict[str, Any], expected: dict[str, Any]) -> bool:
    """Whether the live value is the journalled one (TTL in transition counts as there)."""
    if kind == "ttl":
        on = {"ENABLED", "ENABLING"}
        current_on = current.get("status") in on
        expected_on = expected.get("status") in on
        if current_on != expected_on:
            return False
        return not current_on or current.get("attribute") == expected.get("attribute")
    return current == expected


@final
@dataclass(frozen=True, slots=True)
class Planned:
    kind: str
    target: dict[str, Any]

    @property
    def label(self) -> str:
        return KINDS[self.kind].label(self.target)


def planned_changes(services: ServiceChanges, region: str) -> list[Planned]:
    """The configured changes, in the seed's order."""
    out: list[Planned] = []
    for db in services.performance_insights:
        out.append(
            Planned(
                "performance_insights",
                {
                    "region": region,
                    "db_instance": db,
                    "retention_days": services.performance_insights_retention_days,
                },
            )
        )
    for ref in services.circuit_breaker:
        cluster, service = ref.split("/", 1)
        out.append(
            Planned("circuit_breaker", {"region": region, "cluster": cluster, "service": service})
        )
    for table, attribute in services.ttl.items():
        out.append(Planned("ttl", {"region": region, "table": table, "attribute": attribute}))
    return out
