"""`readiness policy PHASE`: the complete least-privilege IAM policy of a phase, as JSON.

Built from the declarations kept next to the code (readiness.policy): the collectors'
`reads`, the credential check, the post-deploy triage, the checks' `aws_reads`, and for
the deploy what Phase 2 (deploy_steps.services) and Phase 4 (deploy_steps.validation)
send. `--write DIR` writes the four policies as DIR/<phase>.json (docs/policies/ ships
them). Exit 0, or 2 with one line on stderr naming what is wrong.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

from deploy_steps import services, validation
from readiness.check_reads import CheckReadsError, check_reads
from readiness.notify import SENDS as NOTIFY_SENDS
from readiness.policy import PHASES, DeploySends, PolicyError, phase_document, statement

# The checks installed with readiness (a checkout's own checks/).
CHECKS = Path(__file__).resolve().parents[1] / "checks"
REGENERATE = "readiness policy --write docs/policies"
TERRAFORM_NOTE = (
    "readiness policy: deploy's Phase 1 runs terraform, whose own permissions (whatever "
    "the module creates, changes and destroys, and its state backend) are the module's "
    "responsibility: they are not in this policy"
)
NOTIFY_SID = "ReadinessNotify"
_TOPIC = re.compile(r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$")


def deploy_sends() -> DeploySends:
    """What the deploy steps send besides the collectors' reads."""
    return DeploySends(
        reads=services.READS | validation.CANARY_READS,
        writes=services.WRITES,
    )


def policy(phase: str, *, checks: Path = CHECKS, notify_topic: str | None = None) -> dict[str, Any]:
    """The IAM policy document of `phase` (PolicyError, CheckReadsError if it cannot be made).

    `checks`: the checks folder whose `aws_reads` count. `notify_topic`: the `[notify]
    sns_topic_arn` that `readiness watch` and go-live publish to, allowed as its own
    statement on that topic only.
    """
    document = phase_document(
        phase,
        check_reads=check_reads(checks),
        deploy=deploy_sends() if phase == "deploy" else None,
    )
    if notify_topic is not None:
        if not _TOPIC.match(notify_topic):
            raise PolicyError(f"--notify-topic: {notify_topic!r} is not an SNS topic ARN")
        notify = statement(NOTIFY_SID, NOTIFY_SENDS)
        document["Statement"].append({**notify, "Resource": notify_topic})
    return document


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2) + "\n"


def write_all(folder: Path, *, checks: Path = CHECKS) -> list[Path]:
    """Every phase's policy as folder/<phase>.json (all made before any is written)."""
    documents = {phase: render(policy(phase, checks=checks)) for phase in PHASES}
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for phase, text in documents.items():
        path = folder / f"{phase}.json"
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def _run(args: argparse.Namespace, extra: list[str]) -> int:
    if (args.phase is None) == (args.write is None):
        print("readiness policy: give a PHASE to print, or --write DIR", file=sys.stderr)
        return 2
    checks = Path(args.checks) if args.checks is not None else CHECKS
    try:
        if args.write is not None:
            if args.notify_topic is not None:
                print("readiness policy: --notify-topic is for one PHASE", file=sys.stderr)
                return 2
            for path in write_all(Path(args.write), checks=checks):
                print(f"readiness policy: wrote {path}")
        else:
            document = policy(args.phase, checks=checks, notify_topic=args.notify_topic)
            sys.stdout.write(render(document))
    except (PolicyError, CheckReadsError) as exc:
        print(f"readiness policy: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        where = exc.filename or args.write
        print(f"readiness policy: cannot write {where}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    if args.write is not None or args.phase == "deploy":
        print(TERRAFORM_NOTE, file=sys.stderr)
    return 0


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "policy",
        help="print the least-privilege IAM policy of a phase (JSON)",
        description="Prints the complete IAM policy a phase needs, from the operations "
        "its collectors, checks and steps declare (deploy: Phase 2's writes and the "
        "reads of the phases it runs; terraform's permissions are the module's). "
        "See docs/policies/README.md.",
    )
    parser.add_argument("phase", nargs="?", choices=PHASES, default=None)
    parser.add_argument(
        "--write",
        metavar="DIR",
        default=None,
        help="write every phase's policy as DIR/<phase>.json instead",
    )
    parser.add_argument(
        "--checks",
        metavar="DIR",
        default=None,
        help="the checks folder whose @pytest.mark.aws_reads count (default: the checks "
        "installed with readiness)",
    )
    parser.add_argument(
        "--notify-topic",
        metavar="ARN",
        default=None,
        help="add sns:Publish on this topic ([notify] sns_topic_arn, for watch and go-live)",
    )
    parser.set_defaults(run=_run)
