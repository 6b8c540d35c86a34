"""The swim lanes as drawn (issue 12: spoofs count as control's): a message control spoofed is marked in
control's lane, not in that of the team it imitated. `ReportData.lanes` keeps it where the golden fixtures
pin it; the renderer moves it (`render.spoofs_to_control`). On the control-game log (two spoofs)."""

from __future__ import annotations

from collections import Counter

from tabletop.report.data import build_report
from tabletop.report.render import spoofs_to_control
from tabletop.script.models import from_snapshot

from .log_fixtures import events_of, load_log


def messages(lanes) -> dict[str, list[float]]:
    return {lane.team: [m.t for m in lane.marks if m.kind == "message"] for lane in lanes}


def test_each_spoof_moves_to_control_s_lane():
    log = load_log("control-game")
    data = build_report(from_snapshot(log["script"]), events_of(log), session_id=log["session"])
    spoofs = [(m.from_team, m.t) for x in data.logs for m in x.messages if m.spoofed]
    assert sorted(spoofs) == [("iran", 40.0), ("us", 40.0)]
    before, after = messages(data.lanes), messages(spoofs_to_control(data))
    assert before["us"] == [40.0, 1840.0] and before["iran"] == [40.0, 1040.0, 1840.0]  # as the fixture pins
    assert after["us"] == [1840.0] and after["iran"] == [1040.0, 1840.0]
    assert after["control"] == sorted([*before["control"], 40.0, 40.0])
    assert sum(map(len, after.values())) == sum(map(len, before.values()))  # moved, none lost
    kinds = [Counter(m.kind for m in lane.marks if m.kind != "message") for lane in spoofs_to_control(data)]
    assert kinds == [Counter(m.kind for m in lane.marks if m.kind != "message") for lane in data.lanes]


def test_a_report_without_spoofs_keeps_its_lanes():
    log = load_log("report-game")
    data = build_report(from_snapshot(log["script"]), events_of(log), session_id=log["session"])
    assert not any(m.spoofed for x in data.logs for m in x.messages)
    assert spoofs_to_control(data) is data.lanes
