"""The reads checks declare with `@pytest.mark.aws_reads(...)`, per phase, from their source.

A check that uses the live `aws` fixture names what it sends; the run's guard allows
those names for the checks it selected (readiness.pytest_plugin), and a phase's IAM
policy must hold them too. They are read from the check modules' syntax, without
importing them: the names must be string literals, on the function or in the module's
`pytestmark`, and the phase is the function's or the module's phase marker.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path

from readiness.aws.guard import DeclarationError, declare
from readiness.catalogue import PHASES

MARK = "aws_reads"


class CheckReadsError(ValueError):
    """A declaration that cannot be read statically; the message names file and line."""


def _mark_name(node: ast.expr) -> str | None:
    """`pytest.mark.NAME` or `pytest.mark.NAME(...)` -> NAME."""
    target = node.func if isinstance(node, ast.Call) else node
    if (
        isinstance(target, ast.Attribute)
        and isinstance(target.value, ast.Attribute)
        and target.value.attr == "mark"
    ):
        return target.attr
    return None


def _module_marks(tree: ast.Module) -> list[ast.expr]:
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "pytestmark" for t in node.targets
        ):
            value = node.value
            return list(value.elts) if isinstance(value, ast.List | ast.Tuple) else [value]
    return []


def _names(mark: ast.Call, where: str) -> list[str]:
    names = []
    for arg in mark.args:
        if not (isinstance(arg, ast.Constant) and isinstance(arg.value, str)):
            raise CheckReadsError(
                f"{where}:{arg.lineno}: aws_reads takes string literals (service:Operation)"
            )
        names.append(arg.value)
    return names


def _phases(marks: Iterable[ast.expr]) -> set[str]:
    return {name for name in map(_mark_name, marks) if name in PHASES}


def module_reads(path: Path, label: str) -> dict[str, set[str]]:
    """The reads of one check module, by phase."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=label)
    except (OSError, SyntaxError, ValueError) as exc:
        raise CheckReadsError(f"{label}: cannot be read ({exc})") from None
    module_marks = _module_marks(tree)
    out: dict[str, set[str]] = {}

    def add(marks: list[ast.expr], phases: set[str], line: int) -> None:
        declared = [
            name
            for mark in marks
            if isinstance(mark, ast.Call) and _mark_name(mark) == MARK
            for name in _names(mark, label)
        ]
        if not declared:
            return
        if not phases:
            raise CheckReadsError(f"{label}:{line}: aws_reads on a check with no phase marker")
        try:
            names = declare(f"{label}:{line}", declared)
        except DeclarationError as exc:
            raise CheckReadsError(str(exc)) from None
        for phase in phases:
            out.setdefault(phase, set()).update(names)

    module_phases = _phases(module_marks)
    add(module_marks, module_phases, 1)
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith(
            "test_"
        ):
            add(node.decorator_list, _phases(node.decorator_list) | module_phases, node.lineno)
    return out


def check_reads(folder: Path) -> dict[str, frozenset[str]]:
    """Every phase's declared check reads in the checks folder `folder`."""
    if not folder.is_dir():
        raise CheckReadsError(f"{folder}: no such checks folder")
    merged: dict[str, set[str]] = {}
    for path in sorted(folder.rglob("test_*.py")):
        label = path.relative_to(folder.parent).as_posix()
        for phase, names in module_reads(path, label).items():
            merged.setdefault(phase, set()).update(names)
    return {phase: frozenset(names) for phase, names in sorted(merged.items())}
