"""One monitoring engine: every row of the rollback decision table, run through
`readiness watch` and `readiness go-live --monitor`, gives the same decision, the same
notification (on a loopback webhook) and the same incident record. Rounds are scripted
verdicts; everything else (the loop, the notifier, the rollback command, the records)
is the real thing."""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import re
import sys
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from deploy_steps import watch as watch_command
from deploy_steps.cli import main as readiness_main
from deploy_steps.gate import GateResult
from deploy_steps.golive import GoLiveOptions, go_live
from deploy_steps.golive.resume import RunState, StageRecord, save, stamp
from deploy_steps.golive.stages import CommandResult
from readiness.config import parse_config
from readiness.duration import DurationError, describe_seconds, parse_duration
from readiness.postdeploy.decide import (
    ROWS,
    TABLE,
    Action,
    History,
    Limits,
    RoundSignals,
    decide,
    table_markdown,
)
from readiness.postdeploy.watch import RoundRecord, RoundResult, progress_line

from .conftest import REPO

SECRET_PATH = "/services/T000/B000/not-a-real-secret"
ROLLED_BACK = "rolled back (test double)"


def result(check: str, severity: str, outcome: str) -> dict[str, Any]:
    return {
        "check_id": check,
        "title": check,
        "severity": severity,
        "outcome": outcome,
        "resource": f"us-east-1/{check}-resource",
        "message": f"{check} is {outcome}",
        "remediation": f"fix {check}",
    }


@dataclass(frozen=True)
class Round:
    """One scripted gate run: its exit code, results, and why it was not trusted."""

    code: int
    results: tuple[dict[str, Any], ...] = ()
    untrusted: str = ""

    def verdict(self) -> dict[str, Any]:
        return {
            "exit_code": self.code,
            "verdict_label": {0: "GO", 1: "CONDITIONAL GO", 2: "NO-GO"}[self.code],
            "reasons": [],
            "problems": [],
            "results": list(self.results),
        }


GO = Round(0, (result("canary-last-run", "critical", "passed"),))
WARNING = Round(1, (result("lambda-invocations", "warning", "failed"),))
CRITICAL = Round(2, (result("alarm-not-firing", "critical", "failed"),))
BLIND = Round(2, (result("canary-success-window", "critical", "not-evaluated"),))
NO_VERDICT = Round(2, (), "pytest exited 1 but verdict.json says 0")

# Each row of the table, and rounds whose last one reaches it (limits: 3 and 3).
SCENARIOS: dict[str, tuple[Round, ...]] = {
    "critical-failed": (GO, CRITICAL),
    "critical-blind-persists": (BLIND, NO_VERDICT, BLIND),
    "warning-persists": (WARNING, WARNING, WARNING),
    "critical-blind": (GO, BLIND),
    "critical-blind-no-verdict": (NO_VERDICT,),
    "warning": (GO, WARNING),
    "resolved": (WARNING, GO),
    "all-clear": (GO,),
}
EXPECTED_ROW = {name: name.removesuffix("-no-verdict") for name in SCENARIOS}


def test_every_row_has_a_scenario() -> None:
    assert {EXPECTED_ROW[name] for name in SCENARIOS} == {row.id for row in TABLE}


# -- the pure table --------------------------------------------------------------------


def _run_table(rounds: tuple[Round, ...], limits: Limits) -> list[tuple[str, bool]]:
    history, seen = History(), []
    for r in rounds:
        ruling = decide(RoundSignals.of(r.code, r.verdict(), r.untrusted), history, limits)
        history = ruling.history
        seen.append((ruling.row.id, ruling.notify))
    return seen


@pytest.mark.parametrize("name", SCENARIOS)
def test_the_table_reaches_each_row(name: str) -> None:
    seen = _run_table(SCENARIOS[name], Limits())
    assert seen[-1][0] == EXPECTED_ROW[name]


def test_a_warning_is_notified_once_then_rolls_back_on_the_third_round() -> None:
    assert _run_table((WARNING,) * 3, Limits()) == [
        ("warning", True),
        ("warning", False),
        ("warning-persists", True),
    ]
    # Configurable: one more round of patience.
    assert [row for row, _ in _run_table((WARNING,) * 3, Limits(warning_rounds=4))] == [
        "warning"
    ] * 3


def test_a_different_warning_starts_its_own_count() -> None:
    other = Round(1, (result("ecs-no-failed-tasks", "warning", "failed"),))
    rows = [row for row, _ in _run_table((WARNING, WARNING, other, other), Limits())]
    assert rows == ["warning", "warning", "warning", "warning"]


def test_a_blind_round_neither_resolves_nor_counts_a_warning() -> None:
    rows = [row for row, _ in _run_table((WARNING, NO_VERDICT, WARNING, WARNING), Limits())]
    assert rows == ["warning", "critical-blind", "warning", "warning-persists"]


def test_blindness_ends_when_the_criticals_are_read_again() -> None:
    rows = [row for row, _ in _run_table((BLIND, BLIND, GO, BLIND, BLIND), Limits())]
    assert rows == ["critical-blind", "critical-blind", "resolved", "critical-blind"] + [
        "critical-blind"
    ]
    assert _run_table((BLIND,), Limits(blind_rounds=1))[0][0] == "critical-blind-persists"


def test_a_failed_critical_wins_over_everything_else() -> None:
    mixed = Round(2, CRITICAL.results + BLIND.results + WARNING.results)
    assert _run_table((mixed,), Limits())[0] == ("critical-failed", True)


def test_an_accepted_risk_never_rolls_a_deploy_back() -> None:
    """A waived critical (CONDITIONAL GO) in every round: shown, never a rollback."""
    waived = Round(1, (result("db-multi-az", "critical", "waived"),))
    rows = _run_table((waived,) * 5, Limits())
    assert {row for row, _ in rows} == {"all-clear"}
    signals = RoundSignals.of(1, waived.verdict(), "")
    assert signals.warnings == () and not signals.blind


def test_a_no_go_without_a_failed_check_is_blind_not_a_pass() -> None:
    problems = Round(2, GO.results)
    signals = RoundSignals.of(2, {**problems.verdict(), "problems": ["a refused call"]}, "")
    assert signals.blind and "a refused call" in signals.no_verdict


def test_the_documented_table_is_the_table() -> None:
    doc = (REPO / "docs" / "postdeploy.md").read_text(encoding="utf-8")
    assert table_markdown() in doc
    assert set(ROWS) == {row.id for row in TABLE}


def test_the_limits_come_from_readiness_toml() -> None:
    config, _ = parse_config(
        """
default_environment = "prod"
[environments.prod]
account_id = "123456789012"
regions = ["us-east-1"]
[environments.prod.postdeploy]
rollback_after_warning_rounds = 5
rollback_after_blind_rounds = 2
""",
        "test config",
    )
    post = config.environment("prod").postdeploy
    assert (post.rollback_after_warning_rounds, post.rollback_after_blind_rounds) == (5, 2)


def test_the_progress_line() -> None:
    record = RoundRecord(3, "", action=Action.CONTINUE, summary="2 warnings under investigation")
    at = dt.datetime(2026, 1, 1, 14, 35, tzinfo=dt.UTC)
    assert progress_line(record, 24, at) == (
        "round 3 of 24 · next at 14:35 UTC · last decision: continue "
        "(2 warnings under investigation)"
    )


# -- durations -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90), ("15m", 900), ("2h", 7200), ("1h30m", 5400), ("1h 30m 5s", 5405), ("300", 300)],
)
def test_one_duration_parser(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds
    assert parse_duration(describe_seconds(seconds)) == seconds


@pytest.mark.parametrize("text", ["", "0", "-5m", "5x", "m5", "30m1h", "2h2h", "1.2.3s"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(DurationError, match="not a duration"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("argv", "option"),
    [
        (["watch", "--for", "soon"], "--for"),
        (["watch", "--interval", "5x"], "--interval"),
        (["go-live", "--monitor", "2 hours"], "--monitor"),
        (["go-live", "--monitor", "2h", "--monitor-interval", "0s"], "--monitor-interval"),
    ],
)
def test_a_bad_duration_option_is_one_message_and_exit_2(
    argv: list[str], option: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = readiness_main([*argv, f"--config={tmp_path / 'absent.toml'}"])
    err = capsys.readouterr().err
    assert code == 2
    assert f"{option}: " in err and "not a duration" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_watch_accepts_hours_and_minutes_and_go_live_a_number_of_seconds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Both get past the duration and stop at the missing configuration instead.
    assert readiness_main(["watch", "--for", "1h30m", f"--config={tmp_path / 'x.toml'}"]) == 2
    assert "x.toml" in capsys.readouterr().err
    out = tmp_path / "out"
    assert (
        readiness_main(
            ["go-live", "--monitor", "300", f"--config={tmp_path / 'x.toml'}", f"--out={out}"]
        )
        == 2
    )


# -- both entry points, every row ------------------------------------------------------


class Hook:
    """A loopback webhook that keeps every JSON body it is sent."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        received = self.bodies

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                received.append(json.loads(self.rfile.read(length)))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}{SECRET_PATH}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def take(self) -> list[dict[str, Any]]:
        taken = list(self.bodies)
        self.bodies.clear()
        return taken

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def hook() -> Iterator[Hook]:
    server = Hook()
    yield server
    server.close()


def write_config(folder: Path, hook_url: str) -> Path:
    script = folder / "record_rollback.py"
    script.write_text(
        "import json, sys, pathlib\n"
        f"pathlib.Path({str(folder / 'rollback-called.json')!r}).write_text("
        "json.dumps(sys.argv[1:]))\n"
        f"print({ROLLED_BACK!r})\n"
    )
    config = folder / "readiness.toml"
    config.write_text(
        f"""
default_environment = "prod"

[environments.prod]
account_id = "123456789012"
regions = ["us-east-1"]
endpoint_url = "http://127.0.0.1:9"
on_call = "#prod-oncall"
notify = {{ webhook_url = "{hook_url}" }}

[environments.prod.postdeploy]
rollback_command = [{json.dumps(sys.executable)}, {json.dumps(str(script))}, "--journal",
                    "{{report_dir}}/deploy-journal.json", "--env", "{{env}}"]
"""
    )
    return config


def scripted(rounds: tuple[Round, ...]) -> Iterator[Round]:
    return iter(rounds)


def via_watch(folder: Path, config: Path, rounds: tuple[Round, ...]) -> Path:
    out = folder / "out"
    script = scripted(rounds)

    def run_round(number: int, report_dir: Path) -> RoundResult:
        r = next(script)
        return RoundResult(r.code, r.verdict(), r.untrusted, report_dir)

    args = argparse.Namespace(
        env="prod",
        config=str(config),
        report_dir=str(out),
        interval="0.05",
        duration="1h",
        rounds=len(rounds),
    )
    code = watch_command.run(args, [], runner=run_round)
    assert code == json.loads((out / "watch.json").read_text())["exit_code"]
    return out


class MonitoringRounds:
    """A go-live runner that only monitors: each gate is the next scripted round."""

    def __init__(self, rounds: tuple[Round, ...]) -> None:
        self.script = scripted(rounds)
        self.rollbacks: list[Path] = []

    def gate(
        self, phase: str, env: str, report_dir: Path, extra: list[str], environ: Mapping[str, str]
    ) -> GateResult:
        assert phase == "postdeploy" and extra == ["--window=2h"]
        r = next(self.script)
        return GateResult(r.code, 0 if r.untrusted else r.code, r.verdict(), r.untrusted)

    def rollback(self, journal: Path, environ: Mapping[str, str]) -> CommandResult:
        self.rollbacks.append(journal)
        return CommandResult(0, ROLLED_BACK)

    def cannot_rollback(self) -> str:
        return ""


def via_go_live(folder: Path, config: Path, rounds: tuple[Round, ...]) -> tuple[Path, int]:
    """Resume a go-live whose deploy and validations are done: only monitoring is left."""
    out = folder / "out"
    now = dt.datetime.now(dt.UTC)
    run_dir = out / "go-live" / stamp(now)
    state = RunState("prod", run_dir.name, now.isoformat(), emulated=False)
    for name, outcome in (
        ("preflight", "GO"),
        ("audit", "GO"),
        ("decision", "proceed"),
        ("deploy", "GO"),
        ("validations", "GO"),
    ):
        state.stages[name] = StageRecord(
            name, "done", now.isoformat(), now.isoformat(), 1.0, 0, outcome, trusted=True
        )
    save(state, run_dir)
    (run_dir / "deploy").mkdir()
    (run_dir / "deploy" / "deploy-journal.json").write_text('{"steps": []}')
    runner = MonitoringRounds(rounds)
    interval = 1 / 1024  # minutes, exact in binary: the rounds come out as planned
    code = go_live(
        GoLiveOptions(
            env="prod",
            config=config,
            out=out,
            resume=True,
            monitor_minutes=(len(rounds) - 0.5) * interval,
            monitor_interval_minutes=interval,
            stream=io.StringIO(),
        ),
        runner,
    )
    return run_dir, code


def _message(body: Mapping[str, Any]) -> dict[str, Any]:
    """A notification without what must differ: the report's path, the rollback's words."""
    fields = dict(body["readiness"])
    fields.pop("report")
    text = re.sub(r"`[^`]*`", "`<rollback>`", body["text"])
    fields["text"] = "\n".join(line for line in text.splitlines() if not line.startswith("Report:"))
    return fields


def _record(text: str) -> str:
    """An incident record without times, paths and the command line of each entry point."""
    kept = []
    for line in text.splitlines():
        if line.startswith(("- When (UTC):", "- Watched by:", "- Command:", "- round ")):
            continue
        timeless = re.sub(r"\d{4}-\d\d-\d\dT[\d:]+", "<time>", line)
        kept.append(re.sub(r"`[^`]*/[^`]*`", "`<path>`", timeless))
    return "\n".join(kept)


@pytest.mark.parametrize("name", SCENARIOS)
def test_both_entry_points_decide_notify_and_record_alike(
    name: str, hook: Hook, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rounds = SCENARIOS[name]
    monkeypatch.chdir(REPO)
    config = write_config(tmp_path, hook.url)
    hook.take()

    watched = via_watch(tmp_path / "watch", config, rounds)
    watch_bodies = hook.take()
    run_dir, go_live_code = via_go_live(tmp_path / "go-live", config, rounds)
    go_live_bodies = hook.take()

    watch_json = json.loads((watched / "watch.json").read_text())
    go_live_json = json.loads((run_dir / "monitoring" / "watch.json").read_text())
    decisions = [(r["action"], r["rule"]) for r in watch_json["rounds"]]
    assert decisions == [(r["action"], r["rule"]) for r in go_live_json["rounds"]]
    assert len(decisions) == len(rounds)
    row = ROWS[EXPECTED_ROW[name]]
    assert decisions[-1] == (row.action.value, row.id)

    # The same notifications, none for a plain all-clear, and no secret anywhere.
    assert [_message(b) for b in watch_bodies] == [_message(b) for b in go_live_bodies]
    expected_messages = {"all-clear": 0, "warning-persists": 2, "resolved": 2}
    expected_messages["critical-blind-persists"] = 2
    assert len(watch_bodies) == expected_messages.get(name, 1)
    if row.action is Action.ROLLBACK:
        assert watch_bodies[-1]["readiness"]["action"] == "rollback"
    for written in [*watched.rglob("*.*"), *run_dir.rglob("*.*")]:
        assert "not-a-real-secret" not in written.read_text(errors="replace")

    state = json.loads((run_dir / "state.json").read_text())
    watch_incidents = sorted((watched / "incidents").glob("*.md"))
    go_live_incidents = sorted((tmp_path / "go-live" / "out" / "incidents").glob("*.md"))
    if row.action is Action.ROLLBACK:
        # The rollback ran once, each entry point its own way, and said so in the record.
        called = json.loads((tmp_path / "rollback-called.json").read_text())
        assert called == ["--journal", f"{watched}/deploy-journal.json", "--env", "prod"]
        assert watch_json["exit_code"] == go_live_code == 2
        assert state["result"].startswith("ROLLED BACK")
        assert len(watch_incidents) == len(go_live_incidents) == 1
        assert state["incident"] == str(go_live_incidents[0])
        watch_record = watch_incidents[0].read_text()
        go_live_record = go_live_incidents[0].read_text()
        assert _record(watch_record) == _record(go_live_record)
        assert f"- Decision: `{row.id}`" in watch_record
        assert "restored (rollback exit 0)" in watch_record and ROLLED_BACK in watch_record
        assert "webhook http://127.0.0.1" in watch_record and "on-call #prod-oncall" in watch_record
        if row.id == "critical-failed":
            assert "`alarm-not-firing`" in watch_record
    else:
        assert not (tmp_path / "rollback-called.json").exists()
        assert not watch_incidents and not go_live_incidents
        expected_code = 1 if row.action is Action.PREPARED else 0
        assert watch_json["exit_code"] == expected_code
        assert go_live_code == (1 if name == "resolved" else expected_code)
