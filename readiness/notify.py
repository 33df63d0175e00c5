"""Telling the team: an SNS message and a Slack-compatible webhook POST.

A failure to notify is reported (`Delivery.error`), never raised: it must not change a
verdict or stop a watch. The run stays read-only: the SNS client made here may send
`Publish` and nothing else (any other operation is refused before it is sent), through
the environment's own session; no general write permission is ever handed out.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, final
from urllib.parse import urlsplit

from readiness.aws.access import AwsAccess
from readiness.aws.guard import declare
from readiness.config import Environment

MAX_FAILURES_LISTED = 10
SNS_SUBJECT_MAX = 100
ICONS = {"GO": ":large_green_circle:", "CONDITIONAL GO": ":warning:", "NO-GO": ":red_circle:"}
# All a notification sends to AWS (on the [notify] topic): `readiness policy --notify-topic`.
SENDS = declare("the notifications", ("sns:Publish",))


class PublishOnlyViolation(Exception):
    """The notifier's SNS client was asked for something other than Publish."""


@final
@dataclass(frozen=True, slots=True)
class Message:
    """What a notification says: the verdict, what failed, where the report is."""

    environment: str
    verdict: str
    headline: str
    failures: tuple[str, ...] = ()
    report: str = ""
    action: str = ""

    def text(self) -> str:
        lines = [f"Readiness [{self.environment}] {self.verdict}: {self.headline}"]
        if self.action:
            lines.append(f"Action: {self.action}")
        shown = self.failures[:MAX_FAILURES_LISTED]
        lines += [f"- {f}" for f in shown]
        if len(self.failures) > len(shown):
            lines.append(f"- ... and {len(self.failures) - len(shown)} more")
        if self.report:
            lines.append(f"Report: {self.report}")
        return "\n".join(lines)

    def subject(self) -> str:
        return f"Readiness [{self.environment}] {self.verdict}"[:SNS_SUBJECT_MAX]

    def slack(self) -> dict[str, Any]:
        """Slack's incoming-webhook JSON: `text`, plus blocks for clients that show them."""
        icon = ICONS.get(self.verdict, ":grey_question:")
        return {
            "text": f"{icon} {self.text()}",
            "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": self.text()}}],
            "readiness": {
                "environment": self.environment,
                "verdict": self.verdict,
                "action": self.action,
                "failures": list(self.failures),
                "report": self.report,
            },
        }


@final
@dataclass(frozen=True, slots=True)
class Delivery:
    channel: str  # "sns" or "webhook"
    target: str  # topic ARN, or the webhook's host (never its secret path)
    ok: bool
    error: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"channel": self.channel, "target": self.target, "ok": self.ok, "error": self.error}


def _only_publish(model: Any, **_: Any) -> None:
    if str(model.name) != "Publish":
        raise PublishOnlyViolation(f"the notifier may only publish; refused {model.name}")


def publish_client(access: AwsAccess, region: str) -> Any:
    """An SNS client that can send Publish and nothing else (same session, ledger-free)."""
    client = access.session.client(
        "sns",
        region_name=region,
        endpoint_url=access.endpoint_url,
        config=access.botocore_config(),
    )
    client.meta.events.register_first("before-call.*.*", _only_publish)
    return client


def webhook_label(url: str) -> str:
    """A webhook URL carries its secret in the path: show only scheme and host."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/..." if parts.netloc else "(webhook)"


@final
@dataclass
class Notifier:
    env: Environment
    access: AwsAccess | None = None
    timeout_s: float = 5.0
    sent: list[Delivery] = field(default_factory=list)

    def send(self, message: Message) -> list[Delivery]:
        out: list[Delivery] = []
        topic = self.env.notify.sns_topic_arn
        if topic:
            out.append(self._sns(topic, message))
        url = self.env.notify.webhook_url
        if url:
            out.append(self._webhook(url, message))
        self.sent += out
        return out

    def _sns(self, topic: str, message: Message) -> Delivery:
        if self.access is None:
            return Delivery("sns", topic, False, "no AWS access in this run")
        region = topic.split(":")[3] if topic.count(":") >= 5 else self.env.home_region
        try:
            publish_client(self.access, region).publish(
                TopicArn=topic, Subject=message.subject(), Message=message.text()
            )
        except Exception as exc:  # reported, never fatal
            return Delivery("sns", topic, False, f"{type(exc).__name__}: {exc}")
        return Delivery("sns", topic, True)

    def _webhook(self, url: str, message: Message) -> Delivery:
        label = webhook_label(url)
        request = urllib.request.Request(
            url,
            data=json.dumps(message.slack()).encode(),
            method="POST",
            headers={"Content-Type": "application/json", "User-Agent": "readiness"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                status = int(response.status)
        except urllib.error.HTTPError as exc:
            return Delivery("webhook", label, False, f"HTTP {exc.code}")
        except Exception as exc:  # unreachable, timeout, bad URL: reported, never fatal
            reason = getattr(exc, "reason", exc)
            return Delivery("webhook", label, False, f"{type(exc).__name__}: {reason}")
        return Delivery("webhook", label, 200 <= status < 300, "" if status < 300 else str(status))


def failures_of(results: Sequence[dict[str, Any]]) -> tuple[str, ...]:
    """verdict.json results that keep a run from GO, as one line each (criticals first)."""
    bad = [r for r in results if r.get("outcome") in ("failed", "error", "not-evaluated")]
    bad.sort(key=lambda r: (r.get("severity") != "critical", str(r.get("check_id"))))
    return tuple(
        f"{r.get('severity')} {r.get('outcome')}: {r.get('check_id')} "
        f"[{r.get('resource')}] {str(r.get('message', ''))[:200]}"
        for r in bad
    )
