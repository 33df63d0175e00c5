"""No false GO: a hostile run of `readiness gate` over the three demo stacks.

First each way a run was once narrowed into a GO, one by one; then a sample of at
least 100 distinct combinations of marker expressions, `-k`, ini overrides,
PYTEST_ADDOPTS, module skips and disabled plugins. The property: the gate's exit code is
never below the verdict of the whole phase on that stack, unless `--allow-partial` was
on the gate's command line and every output says the run was partial. And every output
in the report folder is this run's: verdict.json, summary.md, junit.xml and
readiness.html agree with the exit code.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import random
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest

from readiness.emulator import EmulatorProcess

from .hostile import PLANTED, PLANTED_ID, STACKS, GateRun, RunGate, copy_project, gate

pytestmark = pytest.mark.slow

GO, CONDITIONAL, NO_GO = 0, 1, 2
EXPECTED = {"local": GO, "local-risky": CONDITIONAL, "local-broken": NO_GO}
OUTPUTS = ("verdict.json", "summary.md", "junit.xml", "readiness.html")
LABEL = {GO: "GO (exit 0)", CONDITIONAL: "CONDITIONAL GO (exit 1)", NO_GO: "NO-GO (exit 2)"}


@pytest.fixture(scope="session")
def hostile_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_project(tmp_path_factory.mktemp("hostile") / "project")


@pytest.fixture(scope="session")
def stack_emulators() -> Iterator[dict[str, EmulatorProcess]]:
    """One emulator per demo stack, shared by every gate run of this worker (the audit
    only reads, so one run cannot change what the next one sees)."""
    with ExitStack() as stack:
        yield {
            env: stack.enter_context(
                EmulatorProcess.start(seed, regions=("us-east-1", "us-west-2"))
            )
            for env, seed in STACKS.items()
        }


@pytest.fixture
def run_gate(
    hostile_project: Path,
    stack_emulators: dict[str, EmulatorProcess],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> RunGate:
    counter = itertools.count()

    def run(
        env: str, *args: str, phase: str = "audit", environ: dict[str, str] | None = None
    ) -> GateRun:
        out = tmp_path / f"out{next(counter)}"
        variables = {"PLANTED_PASS": "1", **stack_emulators[env].attach_environment()}
        variables.update(environ or {})
        return gate(hostile_project, out, phase, env, list(args), monkeypatch, capsys, variables)

    return run


def assert_outputs_say(run: GateRun, code: int, *texts: str) -> None:
    """Every output is this run's and says its verdict (and each text)."""
    verdict = run.verdict
    assert verdict.get("exit_code") == code == run.code, (run.stderr[-2000:], verdict)
    assert run.text("summary.md").startswith(f"## {'🟢🟠🔴'[code]} Readiness: {LABEL[code]}")
    assert f'name="exit_code" value="{code}"' in run.text("junit.xml") or (
        code == NO_GO and 'type="untrusted-run"' in run.text("junit.xml")
    )
    assert LABEL[code].split(" (")[0] in run.text("readiness.html")
    everything = "\n".join(run.text(name) for name in OUTPUTS) + run.stderr
    for text in texts:
        assert text in everything, (text, run.stderr[-2000:])


# -- the cases, one by one ------------------------------------------------------------


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["alone", "xdist"])
def test_another_phase_is_no_verdict_on_the_audit(run_gate: RunGate, workers: list[str]) -> None:
    run = run_gate("local-broken", "-m", "preflight", *workers)
    assert run.code == NO_GO
    assert_outputs_say(run, NO_GO, "the gate runs phase audit but -m 'preflight'")
    accepted = run_gate("local-broken", "--allow-partial", "-m", "preflight", *workers)
    assert accepted.code == NO_GO, "a run of another phase is not a part of this one"


@pytest.mark.parametrize(
    ("env", "args", "addopts"),
    [
        ("local-broken", ["-o", "python_functions=test_runbook* test_on_call*"], ""),
        ("local-broken", ["-n", "2", "-o", "python_functions=test_runbook* test_on_call*"], ""),
        ("local-broken", [], "-o python_functions=test_runbook*"),
        ("local-risky", ["-o", "testpaths=checks/audit/operations"], ""),
        ("local-risky", ["-o", "python_files=test_runbook.py"], ""),
        ("local-risky", ["-o", "norecursedirs=security cost monitoring"], ""),
        ("local-risky", ["-n", "2"], "-o norecursedirs=infrastructure"),
    ],
    ids=[
        "functions",
        "functions-xdist",
        "addopts",
        "testpaths",
        "files",
        "norecurse",
        "xdist-addopts",
    ],
)
def test_ini_overrides_are_a_partial_run(
    run_gate: RunGate, env: str, args: list[str], addopts: str
) -> None:
    environ = {"PYTEST_ADDOPTS": addopts} if addopts else {}
    run = run_gate(env, *args, environ=environ)
    assert run.code == NO_GO, run.stderr[-2000:]
    assert_outputs_say(run, NO_GO, "checks of phase audit were not judged")
    assert run.verdict["partial"] is True
    assert run.verdict["coverage"]["not_judged"], run.verdict["coverage"]


def test_an_accepted_partial_run_says_what_it_did_not_judge(run_gate: RunGate) -> None:
    run = run_gate("local-broken", "--allow-partial", "-o", "python_functions=test_runbook*")
    assert run.code == GO
    coverage = run.verdict["coverage"]
    assert coverage["judged"] == ["runbook-configured"]
    assert len(coverage["not_judged"]) == coverage["checks_in_phase"] - 1
    assert_outputs_say(run, GO, "PARTIAL: 1 of", "runbook-configured", "not judged")
    assert "PARTIAL: 1 of" in run.text("summary.md")
    assert "PARTIAL: 1 of" in run.text("readiness.html")
    assert 'name="partial" value="true"' in run.text("junit.xml")
    # The same flag hidden in PYTEST_ADDOPTS reaches pytest but not the gate.
    hidden = run_gate(
        "local-broken",
        "-o",
        "python_functions=test_runbook*",
        environ={"PYTEST_ADDOPTS": "--allow-partial"},
    )
    assert hidden.code == NO_GO
    assert_outputs_say(hidden, NO_GO, "pass --allow-partial to the gate")


@pytest.mark.parametrize("how", ["skip", "importorskip"])
@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["alone", "xdist"])
def test_a_skipped_module_is_a_collection_problem(
    run_gate: RunGate, how: str, workers: list[str]
) -> None:
    planted = {"PLANTED_PASS": "0"}
    failing = run_gate("local", *workers, environ=planted)
    assert failing.code == NO_GO
    assert PLANTED_ID in json.dumps(failing.verdict["results"])
    skipped = run_gate("local", *workers, environ={**planted, "PLANTED_SKIP": how})
    assert skipped.code == NO_GO
    assert_outputs_say(skipped, NO_GO, f"{PLANTED} was skipped at collection")
    assert any(PLANTED in p for p in skipped.verdict["problems"])
    assert PLANTED_ID in skipped.verdict["coverage"]["not_judged"]


@pytest.mark.parametrize(
    "args",
    # `--noconftest` no longer turns the gate off: the plugins are installed entry points.
    [["-o", "readiness_gate=false"], ["-p", "no:reports.plugin"]],
    ids=["gate-off", "no-verdict-plugin"],
)
def test_an_untrusted_run_replaces_every_output_of_the_last(
    run_gate: RunGate,
    hostile_project: Path,
    stack_emulators: dict[str, EmulatorProcess],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
) -> None:
    out = tmp_path / "shared-out"
    environ = {"PLANTED_PASS": "1", **stack_emulators["local"].attach_environment()}
    first = gate(hostile_project, out, "audit", "local", [], monkeypatch, capsys, environ)
    assert first.code == GO
    assert_outputs_say(first, GO)
    first_run = first.verdict["run_id"]
    again = gate(hostile_project, out, "audit", "local", args, monkeypatch, capsys, environ)
    assert again.code == NO_GO
    assert_outputs_say(again, NO_GO, "The gate did not trust this run")
    assert again.verdict["written_by"] == "readiness gate"
    assert again.verdict["run_id"] != first_run
    for name in ("inventory.json", "api-calls.json", "iam-policy.json"):
        path = out / name
        assert (
            not path.exists()
            or path.stat().st_mtime >= (out / "verdict.json").stat().st_mtime - 120
        )


def test_a_replayed_snapshot_is_no_verdict_on_the_account_now(
    run_gate: RunGate, tmp_path: Path
) -> None:
    live = run_gate("local")
    assert live.code == GO
    snapshot = tmp_path / "saved-inventory.json"
    snapshot.write_bytes((live.out / "inventory.json").read_bytes())
    replay = run_gate("local-broken", f"--snapshot={snapshot}")
    assert replay.code == NO_GO  # the snapshot is of another environment
    same = run_gate("local", f"--snapshot={snapshot}")
    assert same.code == NO_GO
    assert_outputs_say(same, NO_GO, "pass --allow-replay")
    accepted = run_gate("local", f"--snapshot={snapshot}", "--allow-replay")
    assert accepted.code == GO


def test_an_unusable_report_folder_is_one_line_and_no_go(run_gate: RunGate, tmp_path: Path) -> None:
    from .conftest import run_suite

    plain = run_suite(["-m", "audit", "--env", "local", "--snapshot=none.json"], Path("/dev/null"))
    assert plain.returncode == NO_GO
    assert "INTERNALERROR" not in plain.stdout + plain.stderr
    assert "Traceback" not in plain.stdout + plain.stderr
    assert "the report folder /dev/null cannot be used" in plain.stdout + plain.stderr
    run = run_gate("local", "--report-dir=/dev/null")
    assert run.code == NO_GO
    assert "the report folder /dev/null" in run.stderr
    assert "Traceback" not in run.stderr


# -- the hostile combinations ----------------------------------------------------------

MARKS = [
    None,
    "preflight",
    "audit and not security",
    "audit or preflight",
    "",
    "not deploy",
    "critical",
    "audit",
]
KEYWORDS = [None, "runbook", "not s3", "backup or iam"]
OVERRIDES = [
    None,
    "python_functions=test_runbook* test_on_call*",
    "testpaths=checks/audit/operations",
    "python_files=test_runbook.py",
    "norecursedirs=security cost",
    "readiness_gate=false",
    "python_classes=Nothing",
    "empty_parameter_set_mark=skip",
]
ADDOPTS = [
    None,
    "-k backup",
    "-o python_functions=test_on_call*",
    "-p no:reports.plugin",
    "--allow-partial",
    "-m preflight",
    "--deselect checks/audit/security/test_iam.py",
]
SKIPS = [None, "skip", "importorskip"]
PLUGINS = [
    None,
    ["-p", "no:reports.plugin"],
    ["--noconftest"],
    ["-p", "no:readiness.pytest_plugin"],
    ["-p", "no:html"],
    ["-p", "no:timeout"],
    ["--collect-only"],
    ["-x"],
    ["--setup-only"],
    ["--ignore=checks/audit/security"],
]


@dataclass(frozen=True)
class Combination:
    env: str
    mark: str | None
    keyword: str | None
    override: str | None
    addopts: str | None
    skip: str | None
    plugin: tuple[str, ...] | None
    workers: bool
    allow_partial: bool

    def args(self) -> list[str]:
        args: list[str] = []
        if self.allow_partial:
            args.append("--allow-partial")
        if self.mark is not None:
            args += ["-m", self.mark]
        if self.keyword is not None:
            args += ["-k", self.keyword]
        if self.override is not None:
            args += ["-o", self.override]
        if self.plugin is not None:
            args += list(self.plugin)
        if self.workers:
            args += ["-n", "2"]
        return args

    def environ(self) -> dict[str, str]:
        environ = {"PYTEST_ADDOPTS": self.addopts or ""}
        if self.skip:
            environ["PLANTED_SKIP"] = self.skip
        return environ


def combinations(count: int, seed: int) -> list[Combination]:
    """`count` distinct combinations, each narrowing the run in at least one way."""
    rng = random.Random(seed)
    found: dict[Combination, None] = {}
    while len(found) < count:
        combo = Combination(
            env=rng.choice(list(STACKS)),
            mark=rng.choice(MARKS) if rng.random() < 0.4 else None,
            keyword=rng.choice(KEYWORDS) if rng.random() < 0.25 else None,
            override=rng.choice(OVERRIDES) if rng.random() < 0.4 else None,
            addopts=rng.choice(ADDOPTS) if rng.random() < 0.3 else None,
            skip=rng.choice(SKIPS) if rng.random() < 0.25 else None,
            plugin=tuple(p) if (p := rng.choice(PLUGINS)) and rng.random() < 0.4 else None,
            workers=rng.random() < 0.12,
            allow_partial=rng.random() < 0.35,
        )
        narrowed = (
            combo.mark,
            combo.keyword,
            combo.override,
            combo.addopts,
            combo.skip,
            combo.plugin,
        )
        if any(x is not None for x in narrowed):
            found[combo] = None
    return list(found)


# A new sample every day, the same in every xdist worker of one run.
SEED = int(dt.datetime.now(dt.UTC).strftime("%Y%m%d"))
COMBINATIONS = combinations(102, SEED)


def test_the_sample_is_at_least_100_distinct_combinations() -> None:
    assert len(set(COMBINATIONS)) == len(COMBINATIONS) >= 100


@pytest.mark.parametrize(
    "combo", COMBINATIONS, ids=[f"{SEED}-{i}" for i in range(len(COMBINATIONS))]
)
def test_no_combination_gets_below_the_phase_verdict(run_gate: RunGate, combo: Combination) -> None:
    run = run_gate(combo.env, *combo.args(), environ=combo.environ())
    floor = EXPECTED[combo.env]
    where = f"{combo}\n{run.stderr[-3000:]}"
    assert run.code in (GO, CONDITIONAL, NO_GO), where
    assert_outputs_say(run, run.code)
    if run.code < floor:
        assert combo.allow_partial, f"a false {LABEL[run.code]} without --allow-partial: {where}"
        assert run.verdict.get("partial") is True, where
        for name in ("summary.md", "readiness.html", "junit.xml"):
            assert "PARTIAL" in run.text(name) or "partial" in run.text(name), (name, where)


@pytest.mark.parametrize("env", list(STACKS))
def test_the_whole_phase_gives_each_stack_its_verdict(run_gate: RunGate, env: str) -> None:
    run = run_gate(env)
    assert run.code == EXPECTED[env], run.stderr[-3000:]
    assert_outputs_say(run, EXPECTED[env])
    assert run.verdict["partial"] is False
    coverage = run.verdict["coverage"]
    assert coverage["complete"] is True
    assert coverage["checks_in_phase"] == len(coverage["judged"]) == 63  # 62 + the planted one
