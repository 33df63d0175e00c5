"""The deploy (seed step 4): four phases in order, then "all validations pass?".

The work happens in the phase fixtures (deploy_steps/plugin.py); these checks judge
their results. Any failed or not-evaluated check here rolls the deploy back.
"""

import pytest

from deploy_steps.deployment import Deployment, PhaseResult

pytestmark = [pytest.mark.deploy, pytest.mark.critical]
TF_DOCS = "https://developer.hashicorp.com/terraform/cli/commands"
RUNBOOK = "docs/deploy.md"


def _not_applicable(result: PhaseResult, key: str) -> None:
    reason = result.not_evaluated.get(key)
    if reason:
        pytest.skip(reason)


def _message(result: PhaseResult) -> str:
    return "; ".join(result.problems) or "failed"


@pytest.mark.check(
    id="deploy-plan-gate",
    title="Phase 1: the terraform plan deletes or replaces no stateful resource",
    category="deploy",
    risk="A plan that deletes or replaces a database, table, bucket, key, file system or "
    "queue loses its data; applied unreviewed, it cannot be undone by a rollback.",
    remediation="Review the plan (terraform show deploy.tfplan); add lifecycle "
    "{ prevent_destroy = true } or fix the change; only if the loss is intended set "
    "deploy.allow_stateful_replacement = true for this environment.",
    references=[f"{TF_DOCS}/plan", RUNBOOK],
)
def test_plan_gate(phase_infrastructure: PhaseResult) -> None:
    _not_applicable(phase_infrastructure, "apply")
    plan = phase_infrastructure.details.get("plan")
    assert plan is not None, f"no terraform plan was reviewed: {_message(phase_infrastructure)}"
    assert not plan["refused"], "NO-GO, nothing applied: " + "; ".join(plan["stateful_deletes"])


@pytest.mark.check(
    id="deploy-terraform-apply",
    title="Phase 1: terraform applied the reviewed plan",
    category="deploy",
    risk="Services and validations would run against infrastructure that is not the one "
    "the release needs.",
    remediation="Read the terraform diagnostics above (they name the resource address), "
    "fix the module or the credentials, and deploy again.",
    references=[f"{TF_DOCS}/apply", RUNBOOK],
)
def test_terraform_applied(phase_infrastructure: PhaseResult) -> None:
    _not_applicable(phase_infrastructure, "apply")
    assert phase_infrastructure.ok, _message(phase_infrastructure)


@pytest.mark.check(
    id="deploy-services",
    title="Phase 2: Performance Insights, ECS circuit breaker and DynamoDB TTL are set",
    category="deploy",
    risk="Without Performance Insights, a deployment circuit breaker with rollback and TTL "
    "on session tables, a bad release is slower to diagnose, harder to stop, and data "
    "grows unbounded.",
    remediation="Read the failing resource in the message; the journal "
    "(deploy-journal.json) shows each value before and after.",
    references=[
        "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_PerfInsights.Enabling.html",
        "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-circuit-breaker.html",
        "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/TTL.html",
    ],
)
def test_services_configured(phase_services: PhaseResult) -> None:
    _not_applicable(phase_services, "all")
    assert phase_services.ok, _message(phase_services)


@pytest.mark.check(
    id="deploy-security-validation",
    title="Phase 3: the security and monitoring audit criteria pass on the applied state",
    category="deploy",
    risk="A deploy that leaves a critical security or monitoring criterion failing goes "
    "live with the gap the audit was meant to stop.",
    remediation="Open deploy-phase3/readiness.html in the report folder: it lists each "
    "failing criterion with its remediation.",
    references=[RUNBOOK],
)
def test_security_validation(phase_security: PhaseResult) -> None:
    assert phase_security.ok, _message(phase_security)


@pytest.mark.warning
@pytest.mark.check(
    id="deploy-security-warnings",
    title="Phase 3: no security or monitoring warning on the applied state",
    category="deploy",
    risk="Warnings left after a deploy are accepted risks: they should be known and named.",
    remediation="Open deploy-phase3/readiness.html; fix or waive each warning.",
    references=[RUNBOOK],
)
def test_security_warnings(phase_security: PhaseResult) -> None:
    assert not phase_security.warnings, "; ".join(phase_security.warnings)


@pytest.mark.check(
    id="deploy-rate-limiter",
    title="Phase 4: the rate limiter throttles a burst while normal traffic succeeds",
    category="deploy",
    risk="Without working throttling one client (or an attack) can take the service down "
    "for everyone.",
    remediation="Check the WAF rate-based rule and the application's limiter; the message "
    "gives the status counts of the normal and the burst traffic.",
    references=[RUNBOOK],
)
def test_rate_limiter(phase_validation: PhaseResult) -> None:
    _not_applicable(phase_validation, "rate_limit")
    problems = [p for p in phase_validation.problems if p.startswith("rate limiter")]
    assert "rate_limit" in phase_validation.details, _message(phase_validation)
    assert not problems, "; ".join(problems)


@pytest.mark.check(
    id="deploy-canaries-green",
    title="Phase 4: the canaries are green within the threshold after the deploy",
    category="deploy",
    risk="A canary that stays red after a deploy means users see the failure it simulates.",
    remediation="Open the canary's last run in CloudWatch Synthetics; roll back if the "
    "release caused it.",
    references=[
        "https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Synthetics_Canaries.html"
    ],
)
def test_canaries_green(phase_validation: PhaseResult) -> None:
    reason = phase_validation.not_evaluated.get("canaries")
    if reason:
        pytest.skip(reason)
    problems = [p for p in phase_validation.problems if p.startswith("canary")]
    assert "canaries" in phase_validation.details, _message(phase_validation)
    assert not problems, "; ".join(problems)


@pytest.mark.check(
    id="deploy-zero-downtime",
    title="Zero downtime: every health probe during the phases succeeded",
    category="deploy",
    risk="A failed probe during the deploy is downtime users saw.",
    remediation="Look at the first failed probes in the message and the deploy log; check "
    "the minimum healthy percent and the health check grace period.",
    references=[RUNBOOK],
)
def test_zero_downtime(deployment: Deployment, phase_validation: PhaseResult) -> None:
    tally = deployment.stop_prober()
    if tally is None:
        pytest.skip("not-applicable: the environment has no health_urls to probe")
    assert tally.probes > 0, "the prober made no probe: zero downtime cannot be shown"
    assert tally.failures == 0, f"{tally.summary()}: " + "; ".join(tally.first_failures)


@pytest.mark.warning
@pytest.mark.check(
    id="deploy-phase-budget",
    title="Each phase finished within its time budget (15 minutes)",
    category="deploy",
    risk="A phase over budget eats the change window and the time left for a rollback.",
    remediation="See the time breakdown in the report; raise deploy.phase_budget_minutes "
    "only with the change window.",
    references=[RUNBOOK],
)
def test_phase_budget(deployment: Deployment, phase_validation: PhaseResult) -> None:
    over = [t for t in deployment.timings if not t.within_budget]
    assert not over, "; ".join(
        f"{t.name}: {t.duration_s / 60:.1f} min over a {t.budget_s / 60:.0f} min budget"
        for t in over
    )
