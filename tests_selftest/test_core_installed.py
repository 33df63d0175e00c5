"""The installed plugin: the gate works from any folder, and an audit needs no emulator.

The plugins are `pytest11` entry points of the `readiness` distribution, so their options
exist whatever rootdir pytest picks; the checks are found from the configuration (or
`--checks`). An audit of an endpoint imports neither moto nor hypothesis: they are the
`emulator` and `dev` extras.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from importlib.metadata import entry_points, requires, version
from pathlib import Path

import pytest

from readiness.emulator import EmulatorProcess
from tests_selftest.conftest import REPO

PLUGINS = {
    "reports.plugin",
    "readiness.pytest_plugin",
    "deploy_steps.plugin",
    "readiness.postdeploy.plugin",
}
READINESS = Path(sys.executable).with_name("readiness")


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "READINESS_"))}
    env.update(extra)
    return env


def _run(command: list[str], cwd: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command,
        cwd=cwd,
        env=_env(**extra),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _verdict(out: Path) -> dict[str, object]:
    return dict(json.loads((out / "verdict.json").read_text(encoding="utf-8")))


def test_the_plugins_are_installed_entry_points() -> None:
    names = {ep.value for ep in entry_points(group="pytest11") if ep.dist is not None}
    assert names >= PLUGINS
    # Named as their modules: conftest files that still name them load nothing twice.
    assert all(ep.name == ep.value for ep in entry_points(group="pytest11") if ep.value in PLUGINS)


def test_gate_help_shows_every_option_and_version_works(tmp_path: Path) -> None:
    helped = _run([str(READINESS), "gate", "--help"], tmp_path)
    assert helped.returncode == 0, helped.stderr
    for option in (
        "--env",
        "--config",
        "--report-dir",
        "--checks",
        "--waivers",
        "--profile",
        "--window",
        "--snapshot",
        "--allow-partial",
        "--allow-replay",
    ):
        assert option in helped.stdout, f"{option} missing from readiness gate --help"
    shown = _run([str(READINESS), "--version"], tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.strip() == f"readiness {version('readiness')}"


@pytest.mark.slow
def test_pytest_audit_from_another_folder_with_the_space_form(tmp_path: Path) -> None:
    """`--config /abs/path` makes pytest take the path for a test path and the checkout
    for the rootdir; the plugin still runs the whole catalogue, and out/ is here."""
    completed = _run(
        [sys.executable, "-m", "pytest", "-m", "audit", "--config", str(REPO / "readiness.toml")],
        tmp_path,
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-2000:]
    verdict = _verdict(tmp_path / "out")
    assert verdict["verdict"] == "GO"
    assert verdict["partial"] is False
    assert verdict["phase"] == "audit"


@pytest.mark.slow
def test_pytest_postdeploy_from_another_folder_with_the_equals_form(tmp_path: Path) -> None:
    """`--config=/abs/path`: pytest's rootdir is this folder, which has no ini at all."""
    completed = _run(
        [sys.executable, "-m", "pytest", "-m", "postdeploy", f"--config={REPO / 'readiness.toml'}"],
        tmp_path,
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-2000:]
    verdict = _verdict(tmp_path / "out")
    assert verdict["verdict"] == "GO"
    assert verdict["partial"] is False


@pytest.mark.slow
def test_gate_from_another_folder(tmp_path: Path) -> None:
    completed = _run(
        [
            str(READINESS),
            "gate",
            "audit",
            "--config",
            str(REPO / "readiness.toml"),
            "--env",
            "local",
        ],
        tmp_path,
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-2000:]
    verdict = _verdict(tmp_path / "out")
    assert verdict["verdict"] == "GO"
    assert verdict["environment"] == "local"


@pytest.mark.slow
def test_checks_folder_of_another_copy_is_judged_against_its_own_catalogue(
    tmp_path: Path,
) -> None:
    """`--checks DIR`: the catalogue judged is DIR's, and every output says so."""
    copy = tmp_path / "team" / "checks"
    shutil.copytree(REPO / "checks", copy, ignore=shutil.ignore_patterns("__pycache__"))
    work = tmp_path / "work"
    work.mkdir()
    completed = _run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-m",
            "preflight",
            f"--config={REPO / 'readiness.toml'}",
            f"--checks={copy}",
        ],
        work,
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-2000:]
    verdict = _verdict(work / "out")
    coverage = verdict["coverage"]
    assert isinstance(coverage, dict)
    assert coverage["catalogue"] == str(copy / "catalogue.json")
    assert coverage["not_judged"] == []
    said = f"the checks judged are those in {copy}"
    assert any(said in str(note) for note in verdict["notes"])  # type: ignore[attr-defined]
    assert said in (work / "out" / "summary.md").read_text(encoding="utf-8")


def test_runtime_requirements_leave_the_emulator_and_test_libraries_to_extras() -> None:
    required = requires("readiness") or []
    plain = [r for r in required if "extra ==" not in r]
    assert not any(r.startswith(("moto", "hypothesis")) for r in plain), plain
    assert any(r.startswith("moto") and 'extra == "emulator"' in r for r in required)
    assert any(r.startswith("hypothesis") and 'extra == "dev"' in r for r in required)


_BLOCKER = '''
import importlib.abc
import sys


class _NotInstalled(importlib.abc.MetaPathFinder):
    """As if `pip install readiness` had not installed the extras."""

    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {"moto", "hypothesis", "werkzeug", "flask"}:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


sys.meta_path.insert(0, _NotInstalled())

import importlib.metadata as _metadata

_all_distributions = _metadata.distributions


def _installed(**kwargs):
    for dist in _all_distributions(**kwargs):
        if (dist.metadata["Name"] or "").lower() not in {"moto", "hypothesis"}:
            yield dist


_metadata.distributions = _installed
'''


@pytest.fixture(scope="module")
def demo_endpoint() -> Iterator[EmulatorProcess]:
    with EmulatorProcess.start("demo") as emulator:
        yield emulator


@pytest.mark.slow
def test_an_audit_of_an_endpoint_imports_neither_moto_nor_hypothesis(
    tmp_path: Path, demo_endpoint: EmulatorProcess
) -> None:
    blocker = tmp_path / "blocker"
    blocker.mkdir()
    (blocker / "sitecustomize.py").write_text(_BLOCKER, encoding="utf-8")
    config = tmp_path / "readiness.toml"
    config.write_text(
        "default_environment = 'endpoint'\n"
        "[environments.endpoint]\n"
        "account_id = '123456789012'\n"
        "regions = ['us-east-1', 'us-west-2']\n"
        f"endpoint_url = '{demo_endpoint.endpoint}'\n",
        encoding="utf-8",
    )
    completed = _run(
        [str(READINESS), "gate", "audit", f"--config={config}"],
        tmp_path,
        PYTHONPATH=str(blocker),
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_CONFIG_FILE=str(tmp_path / "no-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "no-credentials"),
    )
    output = completed.stdout + completed.stderr
    assert "No module named" not in output, output[-3000:]
    verdict = _verdict(tmp_path / "out")
    assert verdict.get("written_by") != "readiness gate", output[-3000:]
    assert verdict["complete"] is True
    assert completed.returncode == verdict["exit_code"]
    results = verdict["results"]
    assert isinstance(results, list)
    assert len(results) > 50, "the audit judged the endpoint's stack"
    # A sanity check of the blocker itself: the emulator cannot start without moto.
    probe = _run(
        [
            sys.executable,
            "-c",
            "from readiness.emulator import EmulatorProcess\n"
            "try:\n EmulatorProcess.start('demo')\n"
            "except Exception as exc:\n print(type(exc).__name__, exc)",
        ],
        tmp_path,
        PYTHONPATH=str(blocker),
    )
    assert "readiness[emulator]" in probe.stdout, probe.stdout + probe.stderr


@pytest.mark.slow
def test_plugins_not_loaded_is_no_go(tmp_path: Path) -> None:
    """With plugin autoload off nothing judges the run: the gate refuses it."""
    completed = _run(
        [str(READINESS), "gate", "preflight", f"--config={REPO / 'readiness.toml'}"],
        tmp_path,
        PYTEST_DISABLE_PLUGIN_AUTOLOAD="1",
    )
    assert completed.returncode == 2
    assert "the run wrote no verdict.json of its own" in completed.stderr
    assert _verdict(tmp_path / "out")["verdict"] == "NO_GO"


@pytest.mark.slow
def test_a_checks_folder_without_a_catalogue_is_no_go(tmp_path: Path) -> None:
    empty = tmp_path / "empty-checks"
    empty.mkdir()
    (empty / "test_nothing.py").write_text("def test_ok():\n    pass\n", encoding="utf-8")
    completed = _run(
        [
            str(READINESS),
            "gate",
            "preflight",
            f"--config={REPO / 'readiness.toml'}",
            f"--checks={empty}",
        ],
        tmp_path,
    )
    assert completed.returncode == 2, completed.stdout[-2000:]
    problems = _verdict(tmp_path / "out")["problems"]
    assert any("the check catalogue cannot be read" in str(p) for p in problems), problems
