"""The CI gate's rule (docs/ci-gate.md) and the files it relies on."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import pytest

from deploy_steps.gate import judge, run_phase
from reports.files import write_json
from reports.summary import placeholder

from .conftest import REPO, write_catalogue

RUN = "gate-run-0001"


def finished(code: int, run_id: str = RUN) -> dict[str, object]:
    return {"complete": True, "run_id": run_id, "exit_code": code, "verdict": "x"}


@pytest.mark.parametrize(
    ("process", "content", "expected", "why"),
    [
        (0, finished(0), 0, ""),
        (1, finished(1), 1, ""),
        (2, finished(2), 2, ""),
        (0, finished(2), 2, "pytest exited 0 but verdict.json says 2"),
        (1, finished(0), 2, "pytest exited 1 but verdict.json says 0"),
        (4, finished(0), 2, "pytest exited 4"),
        (0, finished(0, "another-run"), 2, "another run"),
        (0, {**finished(0), "complete": False}, 2, "did not finish"),
        (0, {**finished(0), "exit_code": 7}, 2, "exit_code 7"),
        (0, [1, 2], 2, "not an object"),
        (0, None, 2, "no readable verdict.json"),
    ],
)
def test_the_gate_trusts_only_a_matching_finished_verdict(
    tmp_path: Path, process: int, content: object, expected: int, why: str
) -> None:
    path = tmp_path / "verdict.json"
    if content is not None:
        path.write_text(json.dumps(content))
    result = judge(process, path, RUN)
    assert result.exit_code == expected
    assert why in result.reason
    assert result.trusted is (why == "")


def test_the_placeholder_is_a_no_go_the_gate_does_not_trust(tmp_path: Path) -> None:
    path = tmp_path / "verdict.json"
    write_json(path, placeholder(RUN, dt.datetime.now(dt.UTC), "audit"))
    data = json.loads(path.read_text())
    assert data["verdict"] == "NO_GO" and data["exit_code"] == 2 and data["complete"] is False
    for code in (0, 1, 2):
        assert judge(code, path, RUN).exit_code == 2


def test_writes_are_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "verdict.json"
    write_json(path, {"verdict": "NO_GO"})

    def broken_fsync(fd: int) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="disk full"):
        write_json(path, {"verdict": "GO"})
    assert json.loads(path.read_text()) == {"verdict": "NO_GO"}
    assert [p.name for p in tmp_path.iterdir()] == ["verdict.json"]


def test_the_gate_runs_a_phase_and_judges_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A whole gate run on a tiny suite: pytest's code and the file agree."""
    (tmp_path / "pytest.ini").write_text("[pytest]\nreadiness_gate = true\n")
    (tmp_path / "conftest.py").write_text('pytest_plugins = ["reports.plugin"]\n')
    (tmp_path / "test_a.py").write_text(
        "import pytest\n\n"
        "@pytest.mark.audit\n@pytest.mark.warning\n"
        '@pytest.mark.check(id="a-w", title="w", category="security")\n'
        "def test_w():\n    assert 0, 'warned'\n"
    )
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    monkeypatch.delenv("PYTEST_ADDOPTS", raising=False)
    write_catalogue(tmp_path)
    result = run_phase("audit", None, tmp_path / "out", ["-p", "no:randomly"], cwd=tmp_path)
    assert result.reason == "" and result.exit_code == 1 and result.process_code == 1
    assert result.verdict is not None and result.verdict["verdict"] == "CONDITIONAL_GO"


def test_an_interrupt_before_the_session_leaves_no_old_verdict(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C while the run is still being set up (the emulator starting, for one):
    the previous run's GO and its report are gone, the placeholder says NO-GO."""
    (tmp_path / "pytest.ini").write_text("[pytest]\nreadiness_gate = true\n")
    (tmp_path / "conftest.py").write_text(
        'pytest_plugins = ["reports.plugin"]\n\n\n'
        "def pytest_configure(config):\n    raise KeyboardInterrupt\n"
    )
    (tmp_path / "test_a.py").write_text(
        "import pytest\n\n"
        "@pytest.mark.audit\n@pytest.mark.warning\n"
        '@pytest.mark.check(id="a-w", title="w", category="security")\n'
        "def test_w():\n    pass\n"
    )
    out = tmp_path / "out"
    write_json(out / "verdict.json", finished(0, "the-previous-run"))
    (out / "readiness.html").write_text("<p>GO</p>")
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    monkeypatch.delenv("PYTEST_ADDOPTS", raising=False)
    result = run_phase("audit", None, out, ["-p", "no:randomly"], cwd=tmp_path)
    assert result.exit_code == 2 and "did not finish" in result.reason
    data = json.loads((out / "verdict.json").read_text())
    assert data["verdict"] == "NO_GO" and data["run_id"] != "the-previous-run"
    assert data["written_by"] == "readiness gate" and "did not finish" in data["problems"][0]
    page = (out / "readiness.html").read_text()
    assert "NO-GO" in page and "<p>GO</p>" not in page


GATE_REFUSALS = [
    "the report folder",
    "no readable verdict.json",
    "the run wrote no verdict.json of its own",
    "the run did not finish",
    "verdict.json is from another run",
    "but verdict.json says",
    "a GO of another phase",
    "verdict.json judged environment",
    "to the gate to accept a partial verdict",
    "to the gate to accept it",
    "interrupted; ",
]
RUN_PROBLEMS = [
    "was skipped at collection, none of its checks ran",
    "is not exactly one phase",
    "checks of phase",
    "is not in {CATALOGUE.as_posix()}",
    "checks of another phase ran in this run of phase",
    "the gate runs phase",
    "the check catalogue cannot be read",
    "no check ran: a gate that judged nothing is not a GO",
    "checks did not finish",
    "read-only run",
    "(called from ",
    "a previous deploy's journal needs a rollback first",
]


def test_docs_list_every_refusal_with_its_message() -> None:
    """docs/ci-gate.md names each way a run is refused with the words the code uses."""
    doc = (REPO / "docs" / "ci-gate.md").read_text()
    gate_code = (REPO / "deploy_steps" / "gate.py").read_text()
    code = "\n".join(
        p.read_text()
        for folder in ("reports", "readiness", "deploy_steps")
        for p in (REPO / folder).rglob("*.py")
    )
    for text in GATE_REFUSALS:
        assert text in gate_code, f"the gate no longer says {text!r}: update this list"
        assert text in doc, f"docs/ci-gate.md does not show {text!r}"
    for text in RUN_PROBLEMS:
        assert text in code, f"no code says {text!r} any more: update this list"
        shown = text.replace("{CATALOGUE.as_posix()}", "checks/catalogue.json")
        assert shown in doc, f"docs/ci-gate.md does not show {shown!r}"


def test_an_untrusted_run_beside_an_unfinished_deploy_names_the_rollback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A killed deploy said only "the run did not finish": the gate's own NO-GO now
    says how to roll it back, on stderr and in summary.md."""
    from deploy_steps import cli
    from deploy_steps.journal import FILE_NAME

    from .test_hardening_journal import journal_data

    (tmp_path / "pytest.ini").write_text("[pytest]\nreadiness_gate = true\n")
    (tmp_path / "conftest.py").write_text('pytest_plugins = ["reports.plugin"]\n')
    (tmp_path / "test_a.py").write_text(
        "import pytest\n\n"
        "@pytest.mark.audit\n@pytest.mark.warning\n"
        '@pytest.mark.check(id="a-w", title="w", category="security")\n'
        "def test_w():\n    pass\n"
    )
    write_catalogue(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    journal = out / FILE_NAME
    journal.write_text(json.dumps(journal_data("deploying", ["applied"])))
    before = journal.read_bytes()
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    monkeypatch.delenv("PYTEST_ADDOPTS", raising=False)
    code = cli.main(
        ["gate", "audit", f"--report-dir={out}", "-p", "no:randomly", "-o", "readiness_gate=false"]
    )
    err = capsys.readouterr().err
    command = f"readiness rollback --journal {journal}"
    assert code == 2
    assert "the run wrote no verdict.json of its own" in err
    assert command in err
    summary = (out / "summary.md").read_text()
    assert summary.startswith("## 🔴 Readiness: NO-GO (exit 2)") and command in summary
    assert json.loads((out / "verdict.json").read_text())["next_steps"] == [command]
    assert journal.read_bytes() == before  # never touched, never removed
