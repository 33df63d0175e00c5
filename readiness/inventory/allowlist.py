"""The operations each phase may send, from the declarations kept next to the code.

A phase's allow-list is the union of what its collectors declare (`@collector(...,
reads=...)`), the credential check's read, and, for postdeploy, the triage's log read.
`allow_list` is what a static least-privilege IAM policy of a phase is built from;
`phase_policy` is what the run's guard enforces.
"""

from __future__ import annotations

from collections.abc import Iterable

from readiness.aws.guard import LOG_EVENT_READS, Policy, declare
from readiness.inventory.collectors import ALL
from readiness.inventory.runner import IDENTITY_READS
from readiness.postdeploy.triage import READS as TRIAGE_READS

PHASES = ("preflight", "audit", "deploy", "postdeploy")


def allow_list(phases: Iterable[str]) -> frozenset[str]:
    """Every `service:Operation` the given phases declare they need."""
    wanted = set(phases)
    unknown = sorted(wanted - set(PHASES))
    if unknown:
        raise ValueError(f"unknown phase(s) {unknown}: use {', '.join(PHASES)}")
    names = set(IDENTITY_READS)
    for collector in ALL:
        if collector.phases & wanted:
            names |= collector.reads
    if "postdeploy" in wanted:
        names |= TRIAGE_READS
    return frozenset(names)


def phase_policy(
    phases: Iterable[str],
    *,
    deploy: bool = False,
    replay: bool = False,
    checks: Iterable[str] = (),
) -> Policy:
    """The guard's policy for a run of `phases`.

    `deploy` (a run of exactly `-m deploy`) may write as well; a snapshot replay may send
    nothing at all; `checks` are reads that the run's checks declared (already
    validated with `declare`).
    """
    wanted = tuple(phases)
    label = "+".join(wanted) or "none"
    if replay:
        return Policy(f"{label} (snapshot replay)", frozenset())
    reads = allow_list(PHASES if deploy else wanted) | declare("the checks", checks)
    scoped = reads & LOG_EVENT_READS
    return Policy(label, reads - scoped, scoped=scoped, writes=deploy)
