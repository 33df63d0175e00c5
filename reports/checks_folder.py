"""Where the checks are, whatever folder pytest was started from, and when a run is a gate.

The plugins are installed as `pytest11` entry points, so their options exist in every
pytest run of the environment. A run is a readiness gate when its ini file says so
(`readiness_gate = true`, as this project's pyproject does) or, with no such ini
setting, when it is given one of the readiness options (`--config`, `--env`, ...): then
pytest may have picked any rootdir, and the checks folder is

1. `--checks DIR`, else
2. `checks/` beside the `--config` file when that folder has a catalogue, else
3. `checks/` in the rootdir when it has a catalogue, else
4. the checks installed with this package (in a checkout: its `checks/`).

The catalogue names each check by its place under that folder (`checks/audit/...`), so
a node id is mapped back to that place whatever rootdir pytest chose.
"""

from __future__ import annotations

from pathlib import Path

import pytest

CATALOGUE_NAME = "catalogue.json"
# Options that make a run without a `readiness_gate` ini setting a readiness run.
READINESS_OPTIONS = ("config", "env", "snapshot", "checks", "waivers", "report_dir")


def installed_checks() -> Path:
    """The checks folder shipped beside the packages (a checkout's own `checks/`)."""
    return Path(__file__).resolve().parent.parent / "checks"


def _given(config: pytest.Config, name: str) -> str | None:
    # Before the final parse (pytest_load_initial_conftests) only the early namespace
    # holds the command line.
    value = config.getoption(name, None) or getattr(config.known_args_namespace, name, None)
    return str(value) if value else None


def gate_active(config: pytest.Config) -> bool:
    """The ini setting when there is one; otherwise whether a readiness option was given."""
    try:
        setting = config.getini("readiness_gate")
    except ValueError:
        return False
    if setting is not None:
        return bool(setting)
    return any(_given(config, name) for name in READINESS_OPTIONS)


def checks_dir(config: pytest.Config) -> Path:
    base = config.invocation_params.dir
    given = _given(config, "checks")
    if given:
        return (base / given).resolve()
    candidates = [config.rootpath / "checks"]
    config_file = _given(config, "config")
    if config_file:
        candidates.insert(0, (base / config_file).resolve().parent / "checks")
    for folder in candidates:
        if (folder / CATALOGUE_NAME).is_file():
            return folder.resolve()
    return installed_checks()


def run_from_elsewhere(config: pytest.Config) -> bool:
    """Whether pytest's own choice of tests would miss the checks: it was started
    outside the rootdir of a readiness project, or with no readiness ini at all."""
    if config.getini("readiness_gate") is None:
        return True
    return config.invocation_params.dir.resolve() != config.rootpath.resolve()


def catalogue_path(config: pytest.Config) -> Path:
    return checks_dir(config) / CATALOGUE_NAME


def config_file(config: pytest.Config) -> Path:
    """readiness.toml: `--config` (relative to where pytest started), else in the rootdir."""
    given = _given(config, "config")
    if given:
        return (config.invocation_params.dir / given).resolve()
    return config.rootpath / "readiness.toml"


class NodePlaces:
    """Maps a node id to its place under the checks folder (`checks/<path>::<name>`).

    pytest names a node by its path from the rootdir, or, for a file outside the
    rootdir, from the folder given on the command line; both are mapped back here.
    """

    def __init__(self, rootpath: Path, checks: Path) -> None:
        self._roots = (rootpath, checks)
        self._checks = checks.resolve()
        self._known: dict[str, str] = {}

    def __call__(self, nodeid: str) -> str:
        path, sep, rest = nodeid.partition("::")
        place = self._known.get(path)
        if place is None:
            place = self._place(path)
            self._known[path] = place
        return place + sep + rest

    def _place(self, path: str) -> str:
        for root in self._roots:
            candidate = (root / path).resolve()
            try:
                inside = candidate.relative_to(self._checks)
            except ValueError:
                continue
            if candidate.exists():
                return (Path("checks") / inside).as_posix()
        return path
