"""The sponsor's questions in the after-action report (issue 12), from a real game played through the
engine on tests/data/sponsor.yaml (two moves, two incidents, the Oman line with rank layers, the
Swiss channel played by control, a bridge radio, a public channel), and the PDF read back.

The game: the shootdown at +0:02; the U.S. line officer writes on the Oman line, Oman edits it (a
modal weakened, a condition dropped); the IRGC Navy commander answers, forwarded by the Omani
colonel (a lower rank); the two-star's message is held by Oman while Iran decides; the U.S. decides
a strike (escalation to its peak); a declined message; control's Swiss channel; a server outage in
move 2 (the press inject released late); the facilitator's key findings after the end.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tabletop.engine import Actor, ManualTime, NewEvent
from tabletop.engine.events import PARTICIPANT_JOINED
from tabletop.live import Live
from tabletop.report.data import build_report
from tabletop.report.render import document, render_pdf
from tabletop.script import load_exercise
from tabletop.script.models import from_snapshot, snapshot
from tabletop.store import Store

from .engine_helpers import DATA, Game
from .log_fixtures import events_of, load_log
from .report_helpers import pdf_text, squeeze
from .test_conditions import at

SCRIPT = DATA / "sponsor.yaml"
SEATS = {
    "us-gen": ("us", "us-general", "Alice Moore"),
    "us-col": ("us", "us-colonel", "Carl Diaz"),
    "us-ship": ("us", "us-ship", "Sam Park"),
    "ir-gen": ("iran", "ir-general", "Reza Ahmadi"),
    "ir-irgcn": ("iran", "ir-irgcn", "Bahram Tehrani"),
    "ir-col": ("iran", "ir-colonel", "Dariush Karimi"),
    "om-off": ("oman", "om-official", "Salim Al-Harthy"),
    "om-col": ("oman", "om-colonel", "Khalid Al-Busaidi"),
}
FIRST = "The RQ-4 was over international waters at 25-59N 056-53E. We will not retaliate tonight unless you fire again."
EDITED = "Muscat passes on: The RQ-4 was over international waters at 25-59N 056-53E. We may not retaliate tonight."
FINDINGS = (
    "- The line worked, but Oman softened the U.S. warning.\n- Rank did not match: a two-star wrote to a colonel."
)


def make(tmp_path: Path, script: Path | None = None, seats: dict[str, tuple[str, str, str]] = SEATS) -> Game:
    """A game on `script` (by default the module's SCRIPT, read when called: tests monkeypatch it to an
    edited copy of tests/data/sponsor.yaml) with control and `seats` joined as players."""
    script = SCRIPT if script is None else script
    store = Store(f"sqlite:///{tmp_path / 'sponsor.db'}")
    store.migrate()
    exercise = load_exercise(script, library=DATA / "lib")
    session = store.create_session(
        exercise.id, exercise.title, snapshot(exercise), [t.id for t in exercise.teams], None
    )
    time = ManualTime()
    live = Live(store, time, lambda sid, e, state: None)
    actors = {"control": Actor("control", None, "White Cell")}
    for key, (team, position, person) in seats.items():
        pid = store.add_participant(session, "player", person, team, position, [])
        actors[key] = Actor("player", pid, person, team, position)
        payload = {"participant": pid, "kind": "player", "name": person, "team": team, "position": position}
        live.record(session, NewEvent(PARTICIPANT_JOINED, payload, (team,), actor=pid))
    return Game(store, live, time, session, actors)


def play(game: Game) -> None:
    game.do("control", "clock", action="start")
    at(game, 150)  # the shootdown (incident) came at +0:02
    game.do("ir-gen", "send_message", channel="public", text="Our air defences shot down an intruding U.S. drone.")
    at(game, 200)
    first = game.do("us-col", "send_message", channel="oman-line", text=FIRST).seq
    at(game, 260)
    game.do("om-off", "relay", message=first, action="edit", text=EDITED)
    at(game, 320)
    reply = game.do("ir-irgcn", "send_message", channel="oman-line", text="Received. Our boats are pulling back.").seq
    at(game, 340)
    game.do("om-col", "relay", message=reply, action="forward")
    game.do("us-ship", "send_message", channel="bridge", text="Iranian boats, this is a U.S. warship: keep clear.")
    at(game, 400)
    held = game.do("us-gen", "send_message", channel="oman-line", text="Our forces remain on alert.").seq
    at(game, 410)
    game.do("om-off", "relay", message=held, action="hold")
    at(game, 420)
    game.do("us-gen", "decide", inject="options", option="strike", rationale="Deterrence")
    at(game, 450)
    game.do("ir-gen", "decide", inject="iran-posture", option="alert", rationale="Wait and see")
    at(game, 500)
    game.do("om-off", "relay", message=held, action="forward")
    at(game, 520)
    swiss = game.do("ir-col", "send_message", channel="swiss", text="Please pass our protest to Washington.").seq
    at(game, 560)
    game.do("control", "relay", message=swiss, action="edit", text="Tehran protests the strike.")
    at(game, 620)
    declined = game.do("us-col", "send_message", channel="oman-line", text="Your threats mean nothing.").seq
    at(game, 630)
    game.do("om-col", "relay", message=declined, action="decline")
    at(game, 1799)
    game.advance(5)  # the clock stops at the move boundary
    game.do("control", "start_move", move="boxer")
    at(game, 1960)  # the Boxer (incident) came at +0:32
    boxer = game.do("us-col", "send_message", channel="oman-line", text="USS Boxer jammed a drone at 1,000 yards.").seq
    at(game, 2000)
    game.do("om-col", "relay", message=boxer, action="forward")
    at(game, 2990)
    game.time.advance(40)  # the server is down: the press inject (+0:50) falls due unseen
    game.live.run_due(game.session)
    at(game, 3100)
    game.do("control", "clock", action="end")
    game.do("control", "key_findings", text=FINDINGS)


@pytest.fixture(scope="module")
def game(tmp_path_factory):
    made = make(tmp_path_factory.mktemp("sponsor"))
    play(made)
    yield made
    made.store.dispose()


@pytest.fixture(scope="module")
def data(game):
    return build_report(game.state.exercise, game.store.events_after(game.session), session_id=game.session)


@pytest.fixture(scope="module")
def pdf(data, tmp_path_factory):
    path = tmp_path_factory.mktemp("pdf") / "sponsor.pdf"
    render_pdf(data, path, jobs=1)
    return path


@pytest.fixture(scope="module")
def text(pdf):
    return pdf_text(pdf)


def by_seq(data, seq):
    return next(v for v in data.sponsor.verdicts if v.seq == seq)


# ------------------------------------------------------------------ the data
def test_research_questions_are_answered_from_the_log(data):
    s = data.sponsor
    assert s.scripted
    answers = {a.measure: a for a in s.answers}
    assert [a.id for a in s.answers] == [
        "rq-contact",
        "rq-answer",
        "rq-fidelity",
        "rq-rank",
        "rq-informed",
        "rq-peak",
        "rq-public",
        "rq-share",
    ]
    assert answers["first_contact"].answer == (
        "After 2 of 2 incidents, a first message through the line reached the other side; within the benchmark "
        "(30 min of scenario time) after 2."
    )
    assert "After 1 of 2 incidents, an answer came back" in answers["first_answer"].answer
    assert answers["relay_fidelity"].answer.startswith(
        "Of 5 messages given to Sultanate of Oman, 3 passed unchanged, 0 with cosmetic edits only and 1 changed in "
        "substance; 1 declined and 0 never passed on (1 held first)."
    )
    assert "played by control (reported apart): 1 message, 1 edited" in " ".join(answers["relay_fidelity"].details)
    assert answers["peak_escalation"].answer == (
        "Peak 4 (Force used), reached at +0:07:00: decision: The President asks for options: Limited strike "
        "(United States)."
    )
    assert answers["decisions_informed"].answer.startswith("2 of 2 decisions came after the deciding team had heard")
    assert answers["public_signals"].details == ("Islamic Republic of Iran: 1",)
    assert answers["line_share"].answer == "5 of the 8 messages between the sides (62%) went through the line."


def test_key_findings_from_the_console(data):
    s = data.sponsor
    assert [f.text for f in s.findings] == [
        "The line worked, but Oman softened the U.S. warning.",
        "Rank did not match: a two-star wrote to a colonel.",
    ]
    assert s.findings_by == "White Cell"


def test_contact_times_per_incident_in_exercise_and_scenario_time_beside_the_benchmark(data):
    shootdown, boxer = data.sponsor.incidents
    line = shootdown.rows[0]
    assert (line.name, line.line) == ("Oman line", True)
    assert (line.first.after, line.first.scenario_after) == ("1 min 20 s", "5 min 20 s")  # 4x in move 1
    assert (line.delivered.after, line.delivered.scenario_after) == ("2 min 20 s", "9 min 20 s")
    assert (line.answer.seq, line.answered.scenario_after) == (line.answer.seq, "14 min 40 s")
    assert [(b.what, b.benchmark, b.actual, b.verdict) for b in shootdown.benchmarks] == [
        ("first contact", "30 min", "9 min 20 s", "met"),
        ("first answer", "1 h", "14 min 40 s", "met"),
    ]
    others = {r.name: r for r in shootdown.rows[1:]}
    assert others["Bridge-to-bridge (VHF 16)"].delivered.after == "3 min 40 s"
    assert others["Swiss channel"].delivered.after == "7 min 20 s"
    assert boxer.move == "Move 2: USS Boxer" and boxer.rows[0].delivered.scenario_after == "1 min 20 s"  # 1x
    assert boxer.benchmarks[1].verdict == "not reached"
    steps = [s for r in shootdown.rows for s in (r.first, r.delivered, r.answer, r.answered) if s is not None]
    assert steps and all(s.t < 1800 for s in steps), "an incident is measured within its move"
    assert data.relay_timing.incident == "shootdown"  # the first inject marked as an incident


def test_a_substantive_edit_names_its_rules_and_what_the_receiver_did_next(data):
    first = data.sponsor.verdicts[0]
    assert first.kind == "substantive" and first.intermediary == "Sultanate of Oman" and first.by == "Salim Al-Harthy"
    assert first.hits[:2] == (("modality", "will -> may"), ("condition", "dropped: unless"))
    assert first.next.startswith("+0:05:20 Bahram Tehrani (IRGC Navy commander), Islamic Republic of Iran on Oman line")


def test_relay_figures_add_up_and_control_is_apart(data):
    rows = data.sponsor.relay_figures
    for f in rows:
        assert f.total == f.unchanged + f.cosmetic + f.substantive + f.declined + f.waiting, f
    oman = [f for f in rows if f.intermediary == "Sultanate of Oman"]
    assert oman[0].who == "" and oman[0].total == sum(f.total for f in oman[1:]) == 5
    assert oman[0].held_first == 1  # held, then forwarded: counted once, as a forward
    (control,) = [f for f in rows if f.control]
    assert (control.total, control.substantive) == (1, 1)


def test_rank_pairing_flags_mismatches(data):
    ranks = {r.seq: r for r in data.sponsor.ranks}
    reply = next(r for r in ranks.values() if r.sender.name == "Bahram Tehrani")
    assert (reply.sender.authority, reply.relayer.name, reply.relayer.authority) == (3, "Khalid Al-Busaidi", 2)
    assert "relayed by a lower rank (authority 2 for 3)" in reply.flags
    assert [s.title for s in reply.receivers] == ["CENTCOM J3 (two-star)", "Line officer (Colonel)"]  # not the ship
    # judged on the writers: the IRGC Navy commander answers the U.S. colonel (the readers are not judged)
    assert "rank gap: writes to the other side's Line officer (Colonel) (authority 2) with authority 3" in reply.flags
    swiss = next(r for r in ranks.values() if r.channel == "Swiss channel")
    assert swiss.flags == ()  # nobody on the U.S. side had written there
    line = [r for r in ranks.values() if r.channel == "Oman line"]
    assert [len(r.flags) for r in line] == [0, 2, 2, 1, 1]


def test_what_each_decider_knew(data):
    us, iran = data.sponsor.knowledge
    assert (us.title, us.label, us.team, us.informed) == (
        "The President asks for options",
        "Limited strike",
        "United States",
        True,
    )
    assert {r.channel: r.count for r in us.received} == {"Public statements": 1, "Oman line": 1}
    assert {r.channel for r in iran.received} == {"Oman line", "Bridge-to-bridge (VHF 16)"}
    (held,) = iran.pending
    assert "held by Sultanate of Oman since +0:06:50: Our forces remain on alert." in held


def test_peaks_moves_outages_and_the_public_private_timeline(data):
    s = data.sponsor
    (peak,) = s.peaks
    assert (peak.level, peak.rung, peak.time) == (4, "Force used", "+0:07:00")
    one, two = s.moves
    assert "The White House calls for calm (its branch was not taken)" in one.not_released
    assert "The Oman line goes quiet (contingency)" in one.not_released
    assert any(
        b.startswith("The President asks for options: Restraint and a message through Oman") for b in one.not_taken
    )
    assert two.title == "Move 2: USS Boxer" and two.scenario.startswith("18 Jul 2019 10:00")
    assert s.move_marks == ((1800.0, "Move 2: USS Boxer"),)
    (outage,) = s.outages
    assert outage.time == "+0:50:00" and "came 30 s late" in outage.text
    kinds = [i.kind for i in s.public_private]
    assert kinds[:3] == ["incident", "public", "line"] and kinds.count("decision") == 2


def test_every_timeline_item_carries_its_sequence_number(game, data):
    events = {e.seq: e for e in game.store.events_after(game.session)}
    assert data.timeline and all(i.seq in events for i in data.timeline)
    decision = next(i for i in data.timeline if i.kind == "decision")
    assert events[decision.seq].type == "decision_made"


# ------------------------------------------------------------------- the PDF
def test_the_executive_summary_is_the_first_page_after_the_cover(pdf):
    second = subprocess.run(
        ["pdftotext", "-raw", "-f", "2", "-l", "2", "-enc", "UTF-8", str(pdf), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert second.lstrip().split("\n")[1].startswith("Executive summary") or "Executive summary" in second[:200]
    assert "How soon after an incident did the two sides make contact through Oman?" in " ".join(second.split())
    assert "Key findings" in second and "Oman softened the U.S. warning." in second


def test_the_pdf_reads_back_every_new_section(text):
    flat = squeeze(text)
    for title in (
        "Executive summary",
        "Contact times per incident",
        "What the relay changed",
        "6. Rank pairing",
        "What Islamic Republic of Iran knew when it decided.",
        "Move by move",
        "Server outages",
        "9. Public and private",
        "Appendix D: Public and private, one timeline",
        "Appendix C: Every message through an intermediary",  # with each message's rank pairing
    ):
        assert squeeze(title) in flat, title


def test_the_pdf_flags_a_substantive_edit_with_its_rule(text):
    assert squeeze("Substantive: modality (will -> may); condition (dropped: unless)") in squeeze(text)


def test_the_pdf_sets_a_contact_time_beside_its_benchmark(text):
    assert squeeze("Benchmark, first contact through the line within 30 min (scenario time): 9 min 20 s, met.") in (
        squeeze(text)
    )


def test_the_pdf_shows_a_rank_mismatch(text):
    flat = squeeze(text)
    assert squeeze("MISMATCH: relayed by a lower rank (authority 2 for 3)") in flat  # appendix C
    assert squeeze("Who wrote to whom, through whom") in flat and squeeze("The mismatches") in flat
    assert squeeze("relayed by a lower rank (authority 3 for 4)") in flat


def test_the_pdf_shows_a_decision_with_what_was_known(text):
    flat = squeeze(text)
    assert squeeze("What United States knew when it decided.") in flat
    assert squeeze("Oman line: 1 message; the last: #") in flat
    assert squeeze("held by Sultanate of Oman since +0:06:50: Our forces remain on alert.") in flat


def test_a_format_1_log_gets_the_standard_questions():
    log = load_log("global-hawk-rehearsal")
    data = build_report(from_snapshot(log["script"]), events_of(log), session_id=log["session"])
    s = data.sponsor
    assert not s.scripted and len(s.answers) == 8 and all(a.answer for a in s.answers)
    assert any(v.kind == "substantive" and "modality" in dict(v.hits) for v in s.verdicts)
    assert any(v.kind == "cosmetic" and dict(v.hits).get("attribution") for v in s.verdicts)
    html = document(data, ["main"])
    assert "The sponsor&#39;s standard questions" in html or "The sponsor's standard questions" in html


def test_a_release_a_few_seconds_late_is_no_outage(tmp_path):
    """A rehearsal steps its clock 15 s at a time: a release that late is not an outage."""
    game = make(tmp_path)
    try:
        game.do("control", "clock", action="start")
        game.time.advance(135)  # the shootdown (+0:02) falls due 15 s before the scheduler runs
        game.live.run_due(game.session)
        game.time.advance(60)
        game.live.run_due(game.session)
        data = build_report(game.state.exercise, game.store.events_after(game.session), session_id=game.session)
        assert "shootdown" in game.released() and data.sponsor.outages == ()
    finally:
        game.store.dispose()


def test_a_decision_taken_by_default_belongs_to_the_teams_that_may_take_it():
    """An inject put to several teams whose decision only some seats may take: when nobody chose, the
    deciders are the teams of its `by` positions, not everyone it reached."""
    from tabletop.report.data.sections.knowledge import _deciders

    exercise = load_exercise(SCRIPT, library=DATA / "lib")
    assert _deciders(exercise, "options", ("us", "iran", "control")) == {"us"}
    assert _deciders(exercise, "no-such-inject", ("iran",)) == {"iran"}
