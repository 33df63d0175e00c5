"""`junit.xml`: one testcase per check and resource, with the metadata as properties."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from reports.evidence import KEYS, facts, source_text
from reports.outcomes import WAIVED_NOT_EVALUATED, Outcome
from reports.summary import RunSummary


def render(summary: RunSummary) -> str:
    results = summary.results
    failures = sum(r.outcome in (Outcome.FAILED, Outcome.NOT_EVALUATED) for r in results)
    errors = sum(r.outcome is Outcome.ERROR for r in results) + len(summary.problems)
    skipped = sum(r.outcome in (Outcome.NOT_APPLICABLE, Outcome.WAIVED) for r in results)
    suites = ET.Element("testsuites", name="readiness")
    suite = ET.SubElement(
        suites,
        "testsuite",
        name=f"readiness.{summary.phase}",
        tests=str(len(results) + len(summary.problems)),
        failures=str(failures),
        errors=str(errors),
        skipped=str(skipped),
        time=f"{summary.duration_s:.3f}",
        timestamp=summary.started.isoformat(),
    )
    props = ET.SubElement(suite, "properties")
    for name, value in (
        ("verdict", summary.decision.verdict.label),
        ("exit_code", str(summary.decision.exit_code)),
        ("environment", str(summary.target.get("environment", ""))),
        ("account", str(summary.target.get("account", ""))),
        ("emulated", str(bool(summary.target.get("emulated", False))).lower()),
        ("partial", str(summary.partial).lower()),
        ("coverage", summary.coverage_line),
    ):
        ET.SubElement(props, "property", name=name, value=value)
    evidence = summary.evidence_record
    ET.SubElement(props, "property", name="data", value=source_text(evidence))
    for key in KEYS:  # an unknown value is left out
        known = evidence.get(key)
        if known is not None:
            text = str(known).lower() if isinstance(known, bool) else str(known)
            ET.SubElement(props, "property", name=key, value=text)
    for entry in summary.not_applicable:
        ET.SubElement(
            props,
            "property",
            name=f"not_applicable_here.{entry.check}",
            value=f"{entry.reason} (owner {entry.owner}, review by {entry.review}; {entry.status})",
        )
    for problem in summary.problems:
        case = ET.SubElement(suite, "testcase", classname="readiness.run", name="run problem")
        ET.SubElement(case, "error", type="run-problem", message=problem).text = problem
    for r in results:
        name = f"{r.check.id}[{r.resource}]" if r.resource else r.check.id
        case = ET.SubElement(
            suite,
            "testcase",
            classname=f"{r.phase}.{r.check.category}",
            name=name,
            time=f"{r.duration:.3f}",
        )
        cprops = ET.SubElement(case, "properties")
        for key, value in (
            ("check_id", r.check.id),
            ("title", r.check.title),
            ("severity", r.severity.value),
            ("outcome", r.outcome.value),
            ("resource", r.resource),
            ("remediation", r.check.remediation),
        ):
            ET.SubElement(cprops, "property", name=key, value=value)
        if r.outcome is Outcome.FAILED:
            ET.SubElement(
                case, "failure", type=r.severity.value, message=r.message
            ).text = f"{r.message}\n\nRemediation: {r.check.remediation}"
        elif r.outcome is Outcome.NOT_EVALUATED:
            ET.SubElement(case, "failure", type="not-evaluated", message=r.message).text = r.message
        elif r.outcome is Outcome.ERROR:
            ET.SubElement(case, "error", type="error", message=r.message).text = r.message
        elif r.outcome is Outcome.NOT_APPLICABLE:
            ET.SubElement(case, "skipped", type="not-applicable", message=r.message)
        elif r.outcome is Outcome.WAIVED and r.waiver is not None:
            kind = "waived"
            message = f"waived by {r.waiver.owner} until {r.waiver.expires}: {r.waiver.reason}"
            if r.original is Outcome.NOT_EVALUATED:
                kind = "waived-not-evaluated"
                message = f"{WAIVED_NOT_EVALUATED}, {message}; not evaluated because: {r.message}"
            ET.SubElement(case, "skipped", type=kind, message=message)
    evidence_text = "\n".join(f"{label}: {value}" for label, value in facts(evidence))
    ET.SubElement(suite, "system-out").text = f"Evidence\n{evidence_text}\n"
    ET.indent(suites)
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"
    )
