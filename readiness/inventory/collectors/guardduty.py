"""GuardDuty detectors: one record per region (`guardduty`), listing that region's
detectors with their status, so a region without any detector is still judged."""

from __future__ import annotations

from collections.abc import Iterable

from readiness.inventory.collect import CollectContext, Found, collector

RECORD = "guardduty"


@collector(
    "guardduty.detectors",
    phases=("audit",),
    reads=("guardduty:GetDetector", "guardduty:ListDetectors"),
)
def detectors(ctx: CollectContext, region: str) -> Iterable[Found]:
    """The region's GuardDuty detectors (GetDetector of each) under `Detectors`."""
    ids = ctx.fetch.pages("guardduty", region, "list_detectors", "DetectorIds")

    def describe(detector_id: str) -> dict[str, object]:
        answer = ctx.fetch.call("guardduty", region, "get_detector", DetectorId=detector_id)
        return {"DetectorId": detector_id, **answer}

    yield Found(id=RECORD, data={"Detectors": ctx.each(ids, describe)})


COLLECTORS = (detectors,)
