"""What part of the suite a run selects: its phase, and whether it is partial.

These are the reasons a reader can see on the command line. Whatever narrowed the run,
the verdict plugin also compares what ran with the phase's catalogue
(reports/coverage.py), which no option can hide from.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from reports.checks_folder import checks_dir
from reports.outcomes import PHASES

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_OPERATORS = {"and", "or", "not"}


def phases_selected(config: pytest.Config) -> list[str]:
    """Phase markers named in `-m`; all phases when `-m` names none."""
    words = set(_WORD.findall(config.option.markexpr or ""))
    named = [p for p in PHASES if p in words]
    return named or list(PHASES)


def phase_label(config: pytest.Config) -> str:
    """The phase judged: `-m PHASE` exactly; "all" with no `-m`; otherwise the phases
    the expression names, joined with "+" (a partial run, see `partial_reasons`)."""
    expression = (config.option.markexpr or "").strip()
    if expression in PHASES:
        return expression
    named = phases_selected(config)
    return "+".join(named) if len(named) < len(PHASES) else "all"


def _allowed_dirs(config: pytest.Config) -> set[Path]:
    allowed: set[Path] = set()
    roots = [(config.rootpath / str(e)).resolve() for e in config.getini("testpaths") or []]
    for root in [*roots, checks_dir(config)]:
        allowed.add(root)
        if root.is_dir():
            allowed.update(p.resolve() for p in root.iterdir() if p.is_dir())
    allowed.add(config.rootpath.resolve())
    return allowed


def partial_reasons(config: pytest.Config) -> list[str]:
    """Options that run a subset of the selected phases (and so can fake a GO)."""
    option = config.option
    reasons: list[str] = []
    if option.keyword:
        reasons.append(f"-k {option.keyword!r} selects a subset")
    if getattr(option, "deselect", None):
        reasons.append("--deselect removes checks")
    if getattr(option, "lf", False):
        reasons.append("--lf reruns only the last failures")
    if getattr(option, "stepwise", False) or getattr(option, "stepwise_skip", False):
        reasons.append("--stepwise stops at the first failure")
    if getattr(option, "ignore", None) or getattr(option, "ignore_glob", None):
        reasons.append("--ignore removes checks")
    expression = (option.markexpr or "").strip()
    if expression and expression not in PHASES:
        reasons.append(f"-m {option.markexpr!r} is not exactly one phase ({', '.join(PHASES)})")
    allowed = _allowed_dirs(config)
    invocation = config.invocation_params.dir
    for arg in config.args:
        if "::" in arg:
            reasons.append(f"node id {arg!r} selects single checks")
            continue
        path = (invocation / arg).resolve()
        if path.is_file():
            reasons.append(f"file {arg!r} selects part of the suite")
        elif path.is_dir() and path not in allowed:
            reasons.append(f"folder {arg!r} selects part of a phase")
    return reasons
