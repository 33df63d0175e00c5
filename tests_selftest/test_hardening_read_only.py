"""A full read-only run (preflight, audit, post-deploy) on the demo stack records zero
mutating calls in its ledger (out/api-calls.json), and every call it made is one its
phase declares (so the declarations are complete and nothing was refused)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from readiness.emulator import EmulatorProcess
from readiness.inventory.allowlist import allow_list

from .conftest import run_suite

pytestmark = pytest.mark.slow

READ_VERBS = re.compile(r"^(Describe|List|Get|Search|Lookup|Scan|Query|BatchGet|Head|Select)")


def test_preflight_audit_and_postdeploy_make_no_mutating_call(
    demo_emulator: EmulatorProcess, tmp_path: Path
) -> None:
    phases = ("preflight", "audit", "postdeploy")
    outs = {phase: tmp_path / phase for phase in phases}
    for out in outs.values():
        out.mkdir()
    operations: set[str] = set()
    for phase in phases:
        run = run_suite(["-m", phase, "--env", "local"], outs[phase], attach=demo_emulator)
        assert "Traceback" not in run.stdout + run.stderr, run.stdout[-2000:]
        ledger = run.json("api-calls.json")
        assert ledger["mutating_calls"] == [], f"{phase}: {ledger['mutating_calls']}"
        assert ledger["refused_calls"] == [], f"{phase}: {ledger['refused_calls']}"
        declared = allow_list([phase])
        for call in ledger["calls"]:
            assert call["read_only_run"] is True, call
            assert READ_VERBS.match(call["operation"]), f"{phase}: {call['operation']}"
            name = f"{call['service']}:{call['operation']}"
            assert name in declared, f"{phase}: {name} is not declared"
            assert call["grant"] == "read" and call["outcome"] != "refused", call
            operations.add(name)
        policy = run.json("iam-policy.json")["Statement"][0]["Action"]
        assert policy == sorted({c["iam_action"] for c in ledger["calls"]})
        if phase == "audit":
            assert run.verdict["verdict"] == "GO", run.stdout[-2000:]
            assert ledger["total_calls"] > 20
            assert ledger["total_calls"] == ledger["distinct_requests"], ledger["repeated_requests"]
    assert "sts:GetCallerIdentity" in operations
    assert len(operations) > 10, sorted(operations)
