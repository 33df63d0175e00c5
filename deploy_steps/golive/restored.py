"""What a rollback restored, as the incident record names it: read from the journal's
`rollback` record (the release restored, whether it was verified, each difference,
the time it took against its budget)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def journalled_rollback(journal: str) -> dict[str, Any] | None:
    """The journal's `rollback` record, or None when there is none or it cannot be read."""
    if not journal:
        return None
    try:
        data = json.loads(Path(journal).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    record = data.get("rollback") if isinstance(data, dict) else None
    return record if isinstance(record, dict) else None


def _one_line(text: str) -> str:
    return " ".join(text.split())[:300]


def restored_lines(journal: str) -> list[str]:
    """Markdown list lines: the release restored, verified or not, and each difference."""
    record = journalled_rollback(journal)
    if record is None:
        return ["- Release restored: unknown (the journal has no rollback record)"]
    verified = record.get("verified") is True
    release = _one_line(str(record.get("release") or "unknown"))
    lines = [
        f"- Release restored: {release} — "
        + ("restored and verified" if verified else "PARTIALLY restored, not verified"),
        f"- Rollback took {float(record.get('duration_s') or 0):.1f} s "
        f"(budget {float(record.get('budget_s') or 300) / 60:.0f} min)",
    ]
    for difference in record.get("differences") or []:
        lines.append(f"- Difference: {_one_line(str(difference))}")
    return lines
