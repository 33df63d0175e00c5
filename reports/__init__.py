"""Readiness reports: the verdict plugin, waivers, redaction and the outputs.

Knows only pytest, the outcome model and the waiver file; other plugins feed it
through the hooks in `reports.hooks`.
"""

from reports.outcomes import CheckMeta, Outcome, Result, Severity
from reports.verdict import Decision, Verdict, decide
from reports.waivers import Waiver, WaiverFileError, apply_waivers, load_waivers, parse_waivers

__all__ = [
    "CheckMeta",
    "Decision",
    "Outcome",
    "Result",
    "Severity",
    "Verdict",
    "Waiver",
    "WaiverFileError",
    "apply_waivers",
    "decide",
    "load_waivers",
    "parse_waivers",
]
