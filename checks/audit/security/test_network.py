"""Network exposure and visibility: no security group opens an administration port
(SSH 22, RDP 3389) to the whole internet, and every VPC records its traffic in flow logs.

A rule opens a port when its protocol is all traffic (-1) or TCP (and, for RDP, UDP)
with a port range that contains it, from 0.0.0.0/0 or ::/0. Default VPCs are judged like
any other VPC: they carry traffic as soon as something is launched into them.
"""

from typing import Any

import pytest

from readiness.inventory.model import Resource

pytestmark = [pytest.mark.audit]
ADMIN_PORTS = {22: ("tcp",), 3389: ("tcp", "udp")}
PROTOCOL_NAMES = {"6": "tcp", "17": "udp"}
WORLD_V4 = "0.0.0.0/0"
WORLD_V6 = "::/0"
VPC_DOCS = "https://docs.aws.amazon.com/vpc/latest/userguide"


def world_sources(rule: dict[str, Any]) -> list[str]:
    sources = [r.get("CidrIp") for r in rule.get("IpRanges") or []]
    sources += [r.get("CidrIpv6") for r in rule.get("Ipv6Ranges") or []]
    return sorted({str(s) for s in sources if s in (WORLD_V4, WORLD_V6)})


def opened_admin_ports(rule: dict[str, Any]) -> list[int]:
    """The administration ports this ingress rule lets in (whatever its sources)."""
    protocol = str(rule.get("IpProtocol", "")).lower()
    protocol = PROTOCOL_NAMES.get(protocol, protocol)
    if protocol == "-1":
        return sorted(ADMIN_PORTS)
    low = rule.get("FromPort")
    high = rule.get("ToPort")
    low = 0 if low is None or int(low) < 0 else int(low)
    high = 65535 if high is None or int(high) < 0 else int(high)
    return sorted(
        port
        for port, protocols in ADMIN_PORTS.items()
        if protocol in protocols and low <= port <= high
    )


def group_name(resource: Resource) -> str:
    return f"{resource.label} ({resource.get('GroupName')})"


@pytest.mark.critical
@pytest.mark.check(
    id="ec2-sg-admin-ports",
    title="No security group opens SSH (22) or RDP (3389) to 0.0.0.0/0 or ::/0",
    category="security",
    risk="An administration port open to the internet is scanned within minutes and "
    "brute-forced or exploited; one weak key or unpatched daemon gives a shell inside "
    "the VPC.",
    remediation="aws ec2 revoke-security-group-ingress --group-id SG --ip-permissions ...; "
    "reach instances through SSM Session Manager, or allow only a known CIDR "
    "(terraform: remove the 0.0.0.0/0 and ::/0 ingress rules for 22/3389).",
    references=[
        f"{VPC_DOCS}/vpc-security-group-rules.html",
        "https://docs.aws.amazon.com/securityhub/latest/userguide/ec2-controls.html#ec2-53",
    ],
)
@pytest.mark.resources("ec2.security_groups")
def test_ec2_sg_admin_ports(resource: Resource) -> None:
    exposed = []
    for rule in resource.get("IpPermissions") or []:
        sources = world_sources(rule)
        ports = opened_admin_ports(rule)
        if sources and ports:
            protocol = rule.get("IpProtocol")
            span = (
                "all traffic"
                if str(protocol) == "-1"
                else (f"{protocol} {rule.get('FromPort')}-{rule.get('ToPort')}")
            )
            exposed.append(
                f"port {'/'.join(str(p) for p in ports)} from {', '.join(sources)} ({span})"
            )
    assert not exposed, f"security group {group_name(resource)} allows " + "; ".join(exposed)


@pytest.mark.warning
@pytest.mark.check(
    id="vpc-flow-logs",
    title="Every VPC has an active flow log",
    category="security",
    risk="Without flow logs there is no record of which addresses talked to what: an "
    "intrusion or data exfiltration cannot be traced afterwards.",
    remediation="aws ec2 create-flow-logs --resource-type VPC --resource-ids VPC_ID "
    "--traffic-type ALL --log-destination-type cloud-watch-logs --log-group-name "
    "/vpc/prod-flow-logs --deliver-logs-permission-arn ROLE_ARN  (terraform: aws_flow_log)",
    references=[f"{VPC_DOCS}/flow-logs.html"],
)
@pytest.mark.resources("ec2.vpcs")
def test_vpc_flow_logs(resource: Resource) -> None:
    flow_logs = resource.get("FlowLogs") or []
    what = f"VPC {resource.label}" + (" (default VPC)" if resource.get("IsDefault") else "")
    assert flow_logs, f"{what} has no flow log"
    active = [
        f
        for f in flow_logs
        if f.get("FlowLogStatus") == "ACTIVE" and f.get("DeliverLogsStatus") != "FAILED"
    ]
    assert active, (
        f"{what} has no active flow log ("
        + ", ".join(
            f"{f.get('FlowLogId')}: {f.get('FlowLogStatus')}/{f.get('DeliverLogsStatus')}"
            for f in flow_logs
        )
        + ")"
    )
