"""The check catalogue: every check's metadata, read from the check modules themselves,
rendered as `docs/checks.md`.

    python -m readiness.catalogue            # rewrite docs/checks.md and checks/catalogue.json
    python -m readiness.catalogue --check    # exit 1 if either is stale
    python -m readiness.catalogue --json     # every check's metadata, as JSON

`checks/catalogue.json` is what the verdict plugin compares a run with: every check of
a phase, by id, severity and place. A run that did not judge each of them is partial,
however it was narrowed (`-m`, `-k`, `-o python_functions=...`, a skipped module).

Each `checks/**/test_*.py` is imported by path (as pytest does; `checks` is not a
package) and each `test_*` function's markers are read: the phase, the severity (the
function's own marker wins over the module's), `@pytest.mark.check(...)` and the
inventory kind of `@pytest.mark.resources(...)`.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import sys
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, final

PHASES = ("preflight", "audit", "deploy", "postdeploy")
SEVERITIES = ("critical", "warning")
ROOT = Path(__file__).resolve().parents[1]
OUTPUT = Path("docs") / "checks.md"
JSON_OUTPUT = Path("checks") / "catalogue.json"
JSON_SCHEMA = 1
REGENERATE = "python -m readiness.catalogue"


@final
@dataclass(frozen=True, slots=True)
class CheckInfo:
    id: str
    title: str
    category: str
    severity: str
    phases: tuple[str, ...]
    risk: str
    remediation: str
    file: str
    function: str
    references: tuple[str, ...] = ()
    resources: str | None = None
    problems: tuple[str, ...] = field(default=())


def _marks(obj: Any) -> list[Any]:
    marks = getattr(obj, "pytestmark", [])
    return list(marks) if isinstance(marks, list | tuple) else [marks]


class CatalogueError(Exception):
    """A check module that cannot be read: its checks cannot be listed."""


def _load(path: Path, root: Path) -> Any:
    relative = path.relative_to(root).with_suffix("")
    name = "readiness_catalogue_" + "_".join(relative.parts)
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise CatalogueError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except BaseException as exc:
        # pytest.skip(allow_module_level=True) and importorskip raise a BaseException.
        if isinstance(exc, KeyboardInterrupt | SystemExit):
            raise
        why = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise CatalogueError(
            f"{path.relative_to(root).as_posix()}: cannot be read ({why}): "
            "a check module must import without skipping"
        ) from None
    return module


def _info(function: Any, module_marks: list[Any], file: str) -> CheckInfo | None:
    own = _marks(function)
    every = own + module_marks
    meta = next((m for m in own if m.name == "check"), None)
    if meta is None:
        return None
    fields = dict(meta.kwargs)
    if meta.args:
        fields.setdefault("id", meta.args[0])
    severity = next((m.name for m in own if m.name in SEVERITIES), None) or next(
        (m.name for m in module_marks if m.name in SEVERITIES), ""
    )
    phases = tuple(p for p in PHASES if any(m.name == p for m in every))
    resources = next((m for m in own if m.name == "resources"), None)
    expected = next((m for m in own if m.name == "expected"), None)
    per = str(resources.args[0]) if resources is not None and resources.args else None
    if per is None and expected is not None and expected.args:
        per = f"expect.{expected.args[0]}"
    refs = fields.get("references", ())
    problems = []
    if not severity:
        problems.append("no severity marker")
    if len(phases) != 1:
        problems.append("needs exactly one phase marker")
    return CheckInfo(
        id=str(fields.get("id", "")),
        title=str(fields.get("title", "")).strip(),
        category=str(fields.get("category", "")),
        severity=severity,
        phases=phases,
        risk=str(fields.get("risk", "")).strip(),
        remediation=str(fields.get("remediation", "")).strip(),
        file=file,
        function=function.__name__,
        references=(refs,) if isinstance(refs, str) else tuple(str(r) for r in refs),
        resources=per,
        problems=tuple(problems),
    )


def collect(
    root: Path = ROOT, folder: str = "checks", *, skip_unreadable: bool = False
) -> list[CheckInfo]:
    """Every check under `root/folder`, in file order, then definition order.

    A module that cannot be imported is an error, unless `skip_unreadable` (for a test
    suite that plants a broken module on purpose)."""
    found: list[CheckInfo] = []
    for path in sorted((root / folder).rglob("test_*.py")):
        try:
            module = _load(path, root)
        except CatalogueError:
            if skip_unreadable:
                continue
            raise
        module_marks = _marks(module)
        file = path.relative_to(root).as_posix()
        for name, value in vars(module).items():
            if name.startswith("test_") and callable(value):
                info = _info(value, module_marks, file)
                if info is not None:
                    found.append(info)
    return found


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render(checks: Sequence[CheckInfo]) -> str:
    lines = [
        "# Check catalogue",
        "",
        f"Generated from the checks' own metadata by `{REGENERATE}`; do not edit by hand",
        "(a selftest fails when this file is stale). How to add a check: "
        "[writing-checks.md](writing-checks.md).",
        "",
        f"{len(checks)} checks: "
        + ", ".join(
            f"{sum(1 for c in checks if phase in c.phases)} {phase}"
            for phase in PHASES
            if any(phase in c.phases for c in checks)
        )
        + ".",
        "",
    ]
    for phase in PHASES:
        in_phase = [c for c in checks if phase in c.phases]
        if not in_phase:
            continue
        lines += [f"## {phase}", ""]
        for category in sorted({c.category for c in in_phase}):
            rows = sorted((c for c in in_phase if c.category == category), key=lambda c: c.id)
            lines += [
                f"### {phase} · {category}",
                "",
                "| id | severity | title | judged per | file |",
                "|---|---|---|---|---|",
            ]
            lines += [
                f"| `{c.id}` | {c.severity} | {_cell(c.title)} | "
                f"{f'`{c.resources}`' if c.resources else '-'} | `{c.file}` |"
                for c in rows
            ]
            lines.append("")
            for c in rows:
                lines += [f"#### `{c.id}`", "", f"- **Risk:** {_cell(c.risk) or '-'}"]
                lines.append(f"- **Remediation:** {_cell(c.remediation) or '-'}")
                if c.references:
                    lines.append("- **References:** " + ", ".join(c.references))
                lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


def problems(checks: Iterable[CheckInfo]) -> list[str]:
    """What the catalogue requires of every check: a unique id, risk and remediation."""
    out: list[str] = []
    seen: dict[str, str] = {}
    for c in checks:
        where = f"{c.file}::{c.function}"
        if c.id in seen:
            out.append(f"{where}: check id {c.id!r} is also used by {seen[c.id]}")
        seen.setdefault(c.id, where)
        for attribute in ("title", "category", "risk", "remediation"):
            if not getattr(c, attribute):
                out.append(f"{where}: check {c.id!r} has no {attribute}")
        out.extend(f"{where}: {p}" for p in c.problems)
    return out


def render_json(checks: Sequence[CheckInfo]) -> str:
    """checks/catalogue.json: what a complete run of each phase judges."""
    rows = [
        {
            "id": c.id,
            "phase": c.phases[0] if len(c.phases) == 1 else "+".join(c.phases),
            "severity": c.severity,
            "category": c.category,
            "node": f"{c.file}::{c.function}",
        }
        for c in sorted(checks, key=lambda c: (c.file, c.function))
    ]
    phases = {p: sum(1 for c in checks if c.phases == (p,)) for p in PHASES}
    # One check a line: a reviewer reads a change to the catalogue as a diff of lines.
    lines = [
        "{",
        f' "schema_version": {JSON_SCHEMA},',
        f' "generated_by": {json.dumps(REGENERATE)},',
        f' "phases": {json.dumps(phases)},',
        ' "checks": [',
        ",\n".join(f"  {json.dumps(row)}" for row in rows),
        " ]",
        "}",
    ]
    return "\n".join(lines) + "\n"


def from_json(data: dict[str, Any]) -> CheckInfo:
    """A CheckInfo back from `--json` output."""
    fields = dict(data)
    for key in ("phases", "references", "problems"):
        fields[key] = tuple(fields.get(key) or ())
    return CheckInfo(**fields)


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m readiness.catalogue", description=__doc__)
    parser.add_argument("--check", action="store_true", help="exit 1 if the file is stale")
    parser.add_argument("--json", action="store_true", help="print the checks as JSON")
    parser.add_argument("--root", type=Path, default=ROOT, help="the repository")
    args = parser.parse_args(argv)
    root: Path = args.root
    sys.path.insert(0, str(root))
    try:
        checks = collect(root)
    except CatalogueError as exc:
        print(f"readiness catalogue: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps([asdict(c) for c in checks], indent=1))
        return 0
    stale = 0
    for output, text in ((OUTPUT, render(checks)), (JSON_OUTPUT, render_json(checks))):
        target = root / output
        current = target.read_text(encoding="utf-8") if target.is_file() else ""
        if args.check:
            if current != text:
                print(f"{output} is stale: run `{REGENERATE}`", file=sys.stderr)
                stale = 1
        elif current != text:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
            print(f"wrote {output} ({digest(text)})")
        else:
            print(f"{output} is up to date")
    return stale


if __name__ == "__main__":
    raise SystemExit(main())
