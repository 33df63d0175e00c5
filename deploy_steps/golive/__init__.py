"""`readiness go-live`: the deployment flowchart in one command.

Stages (each a pytest session of the suite through the CI gate, with its own report
folder under out/go-live/<UTC stamp>/): preflight → audit → decision → deploy (phases
1-4) → validations → success or rollback → optional monitoring. See docs/runbook.md.
"""

from deploy_steps.golive.flow import FAULTS, GoLive, GoLiveOptions, go_live

__all__ = ["FAULTS", "GoLive", "GoLiveOptions", "go_live"]
