"""Format 2: every new field loads into the API the engine uses, and every new rule gives its exact
error at its place (a broken copy of tests/data/format2.yaml, or of its base file)."""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from tabletop import ROOT
from tabletop.script import ScriptError, load_exercise
from tabletop.script.models import Condition, Exercise, from_snapshot, snapshot
from tabletop.script.timeline import timeline
from tabletop.script.times import format_scenario_at, msel_scenario_cell

from .log_fixtures import NAMES, load_log
from .test_script_rules import place

DATA = Path(__file__).parent / "data"
SCRIPT = (DATA / "format2.yaml").read_text(encoding="utf-8")
MINIMAL = (DATA / "minimal.yaml").read_text(encoding="utf-8")
BASE_FILE = DATA / "lib" / "bases" / "three-teams.yaml"
BASE_TEXT = BASE_FILE.read_text(encoding="utf-8")
GULF = timezone(timedelta(hours=4))


@pytest.fixture(scope="module")
def exercise() -> Exercise:
    return load_exercise(DATA / "format2.yaml", library=DATA / "lib")


def errors_of(tmp_path: Path, text: str, library: Path) -> list[str]:
    path = tmp_path / "broken.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScriptError) as info:
        load_exercise(path, library=library, display="broken.yaml")
    return [str(p) for p in info.value.problems]


# --- the API ---------------------------------------------------------------------------------


def test_base_and_script_merge_by_id(exercise):
    assert [t.id for t in exercise.teams] == ["us", "iran", "oman"]  # all from the base
    # the base's channels first, `public` replaced in its place by the script's, then the script's own
    assert [c.id for c in exercise.channels] == ["oman-line", "flag-line", "bridge", "public", "swiss"]
    assert exercise.channel("public").name == "Public feed" and exercise.channel("public").members == ("us", "iran")
    assert [p.id for p in exercise.personas] == ["irna", "potus", "oman-mfa"]
    # mappings are replaced whole by the script's
    assert exercise.escalation.start == 0 and [r.name for r in exercise.escalation.rungs] == ["Calm", "Crisis"]
    assert [q.id for q in exercise.hotwash.questions] == ["q-line", "q-trust"]
    assert exercise.hotwash.questions[1].kind == "scale" and exercise.hotwash.questions[0].kind == "text"
    assert exercise.base == "bases/three-teams.yaml"


def test_moves_and_the_scenario_clock(exercise):
    m1, m2, m3 = exercise.moves
    assert (m1.stop_clock, m2.stop_clock, m3.stop_clock) == (False, True, False)
    assert exercise.clock_stops() == (3600,)
    assert [exercise.move_at(t).id for t in (0, 3599, 3600, 5399, 5400, 7200)] == ["m1", "m1", "m2", "m2", "m3", "m3"]
    # move 1 at 20x from 20 June; move 2 jumps to 18 July at 1x; move 3 runs on from move 2's clock at 2x
    assert exercise.scenario_at(0) == datetime(2019, 6, 20, 4, 5, tzinfo=GULF)
    assert exercise.scenario_at(600) == datetime(2019, 6, 20, 7, 25, tzinfo=GULF)
    assert exercise.scenario_at(3600) == datetime(2019, 7, 18, 10, 0, tzinfo=GULF)
    assert exercise.move_anchor(m3) == datetime(2019, 7, 18, 10, 30, tzinfo=GULF)
    assert exercise.scenario_at(5400 + 600) == datetime(2019, 7, 18, 10, 50, tzinfo=GULF)
    assert exercise.scenario_at(None) is None
    # the clock in force works with every time format that takes a scenario
    assert format_scenario_at(exercise.clock_at(3600 + 60), 3600 + 60) == "18 Jul 2019 10:01"
    assert msel_scenario_cell(exercise.clock_at(600), 600) == "2019-06-20 07:25"


def test_a_script_without_moves_keeps_its_one_clock():
    minimal = load_exercise(DATA / "minimal.yaml", library=DATA / "lib")
    assert minimal.moves == () and minimal.move_at(100) is None and minimal.clock_stops() == ()
    assert minimal.clock_at(100) is minimal.scenario
    assert minimal.scenario_at(1800) == datetime(2019, 6, 20, 5, 5, tzinfo=GULF)


def test_moves_without_a_scenario_date(tmp_path):
    text = SCRIPT.replace("    scenario_start: 2019-06-20T04:05:00+04:00\n    time_scale: 20\n", "").replace(
        "    scenario_start: 2019-07-18T10:00:00+04:00\n", ""
    )
    text = text.replace("    stop_clock: false\n    time_scale: 2\n", "    stop_clock: false\n")
    path = tmp_path / "undated.yaml"
    path.write_text(text, encoding="utf-8")
    undated = load_exercise(path, library=DATA / "lib")
    assert undated.move_at(4000).id == "m2" and undated.scenario_at(4000) is None and undated.clock_at(4000) is None


def test_channel_access(exercise):
    line, flag, bridge, public, swiss = exercise.channels
    # write: the named line officers; read: those, the generals above them and the Omani desk
    assert exercise.can_write(line, "us-colonel") and not exercise.can_write(line, "us-general")
    assert exercise.can_read(line, "us-general") and exercise.can_read(line, "us-colonel")
    assert not exercise.can_read(line, "us-ship")
    assert exercise.can_relay(line, "om-colonel") and not exercise.can_relay(flag, "om-colonel")
    assert exercise.can_relay(flag, "om-general") and not exercise.can_relay(line, "us-colonel")
    # VHF 16: ships and boats only, and every position of the members reads it
    assert exercise.can_write(bridge, "ir-boat") and not exercise.can_write(bridge, "ir-general")
    assert exercise.can_read(bridge, "ir-general") and not exercise.can_read(bridge, "om-general")
    # without lists: members write (min_authority applies), every team reads a broadcast
    assert exercise.can_write(public, "us-ship") and not exercise.can_write(public, "om-general")
    assert exercise.can_read(public, "om-general")
    assert exercise.can_write(swiss, "us-state") and not exercise.can_write(swiss, "us-colonel")
    assert not exercise.can_write(line, "nobody") and not exercise.can_read(line, "nobody")
    # how a channel starts and what each side of a relay is told
    assert flag.initially == "closed" and line.initially == "open"
    assert (line.receiver_sees, flag.receiver_sees, swiss.receiver_sees) == ("via", "position", "team")
    assert line.sender_learns == ("forwarded", "held", "declined", "delivered")
    assert not line.sender_told("forwarded_with_changes") and flag.sender_told("forwarded_with_changes")
    assert line.read is not None and bridge.read is None and public.write is None


def test_conditions_choices_and_effects(exercise):
    chase = exercise.inject("chase")
    assert chase.release == "conditional" and chase.delay == 60
    assert chase.when is not None and chase.when.kind == "no_message"
    assert chase.when.no_message is not None and chase.when.no_message.within == 900
    nudge = exercise.inject("nudge")
    assert (
        nudge.when is not None
        and nudge.when.kind == "any"
        and [c.kind for c in nudge.when.parts]
        == [
            "no_ack",
            "no_decision",
        ]
    )
    assert nudge.when.injects() == ("shootdown", "options")
    assert nudge.unless is not None and nudge.unless.escalation is not None and nudge.unless.escalation.at_least == 3
    debris = exercise.inject("debris")
    assert (
        debris.fiction
        and debris.unless is not None
        and [c.kind for c in debris.unless.walk()]
        == [
            "all",
            "option",
            "escalation",
        ]
    )
    opener = exercise.inject("boxer-opener")
    assert opener.is_choice and opener.to == () and exercise.recipients(opener) == ()
    assert [c.target for c in opener.choose] == ["boxer-after-strike", "boxer-quiet"]
    assert opener.choose[0].when is not None and opener.choose[1].otherwise == "boxer-quiet"
    assert exercise.choice_of("boxer-quiet") == opener and exercise.choice_of("debris") is None
    effects = exercise.inject("close-bridge").effects
    assert effects[0].channel is not None and (effects[0].channel.id, effects[0].channel.action) == ("bridge", "close")
    assert exercise.inject("shootdown").source.startswith("ICG") and exercise.inject("shootdown").move == "m1"
    assert exercise.escalation.rung(2) is not None and exercise.escalation.rung(2).name == "Calm"
    assert exercise.escalation.rung(3).name == "Crisis" and exercise.escalation.rung(-1) is None
    assert exercise.persona("irna").team == "iran" and exercise.move("m2").title == "Move 2, the Boxer"


def test_a_condition_model_is_exactly_what_the_script_says():
    condition = Condition.model_validate(
        {"all": [{"escalation": {"at_least": 2}}, {"any": [{"option": {"decision": "d", "option": "o"}}]}]}
    )
    assert condition.kind == "all" and [c.kind for c in condition.walk()] == ["all", "escalation", "any", "option"]


def test_format2_snapshot_round_trips(exercise):
    data = snapshot(exercise)
    assert from_snapshot(json.loads(json.dumps(data))) == exercise
    assert data["moves"][1]["stop_clock"] is True and data["channels"][1]["initially"] == "closed"
    # fields at their default are left out, like format 1's
    assert "initially" not in data["channels"][0] and "fiction" not in data["injects"][1]


@pytest.mark.parametrize("name", NAMES)
def test_format1_snapshots_of_the_committed_logs_serialise_exactly_as_before(name):
    stored = load_log(name)["script"]
    assert snapshot(from_snapshot(stored)) == stored


@pytest.mark.parametrize(
    "path",
    [
        DATA / "minimal.yaml",
        *(p for p in sorted((ROOT / "exercises").glob("*.yaml")) if "\nformat: 1\n" in p.read_text()),
    ],
    ids=lambda p: p.name,
)
def test_format1_snapshots_hold_no_format2_field(path):
    library = DATA / "lib" if path.parent == DATA else ROOT / "injects"
    data = snapshot(load_exercise(path, library=library))
    assert not {"moves", "escalation", "hotwash", "personas", "base"} & set(data)
    for channel in data["channels"]:
        assert not {"read", "write", "initially", "receiver_sees", "sender_learns"} & set(channel)
    for inject in data["injects"]:
        assert not {"fiction", "source", "move", "when", "unless", "choose"} & set(inject)


def test_timeline_dates_each_row_by_its_move(exercise):
    rows = {r.inject.id: r for r in timeline(exercise)}
    assert format_scenario_at(rows["options"].clock, rows["options"].due) == "20 Jun 2019 07:25"
    assert format_scenario_at(rows["boxer-opener"].clock, rows["boxer-opener"].due) == "18 Jul 2019 10:00"
    assert rows["close-bridge"].move is not None and rows["close-bridge"].move.id == "m2"  # chained: its due time
    assert rows["boxer-after-strike"].move is not None and rows["boxer-after-strike"].move.id == "m2"  # its move:
    assert rows["chase"].move is None and rows["chase"].release == "condition, +1m"
    assert rows["boxer-quiet"].release == "choice boxer-opener"
    order = [r.inject.id for r in timeline(exercise)]
    assert order[:5] == ["shootdown", "options", "debris", "boxer-opener", "close-bridge"]
    assert set(order[5:]) == {"chase", "nudge", "flag-open", "boxer-after-strike", "boxer-quiet"}


# --- the rules -------------------------------------------------------------------------------

KNOWN_INJECTS = (
    "shootdown, options, chase, nudge, flag-open, debris, boxer-opener, boxer-after-strike, boxer-quiet, close-bridge"
)
POSITIONS = "ir-boat, ir-colonel, ir-fm, ir-general, om-colonel, om-general, us-colonel, us-general, us-ship, us-state"

# (rule, old text, new text, anchor where the error points, exact message)
CASES = [
    # moves
    ("unknown move", "move: m1", "move: m9", "m9", "unknown move 'm9' in 'move' (moves: m1, m2, m3)"),
    (
        "timed inject in another move",
        "move: m1",
        "move: m2",
        "m2",
        "inject at +00:00 falls in move 'm1' (from +00:00), not in move 'm2' (from +01:00)",
    ),
    (
        "first move not at the start",
        '    at: "+00:00"\n    scenario_start',
        '    at: "+00:05"\n    scenario_start',
        '"+00:05"',
        'the first move starts at "+00:00", the start of the exercise',
    ),
    (
        "moves out of order",
        'at: "+01:30"',
        'at: "+00:50"',
        '"+00:50"',
        "move 'm3' starts at +00:50, not after move 'm2' at +01:00: list moves in order of time",
    ),
    (
        "move after the end",
        'at: "+01:30"',
        'at: "+02:30"',
        '"+02:30"',
        "move 'm3' starts at +02:30, when the exercise is over (duration 2h)",
    ),
    (
        "first move stops the clock",
        "    time_scale: 20\n",
        "    time_scale: 20\n    stop_clock: true\n",
        "true",
        "the first move cannot stop the clock: the exercise starts with it",
    ),
    (
        "scenario with moves",
        "duration: 2h\n",
        "duration: 2h\nscenario:\n  start: 2019-06-20T04:05:00+04:00\n",
        "scenario:",
        "'scenario' cannot go with 'moves': each move sets its own scenario_start and time_scale",
    ),
    (
        "a later move dated when the first is not",
        "    scenario_start: 2019-06-20T04:05:00+04:00\n    time_scale: 20\n",
        "",
        "scenario_start: 2019-07",
        "'scenario_start' needs a scenario date: give the first move a scenario_start (without one, no move has "
        "a scenario clock)",
    ),
    (
        "duplicate move id",
        "  - id: m3",
        "  - id: m1",
        "m1\n    title: Move 3",
        "duplicate move id 'm1' (first at line 8)",
    ),
    (
        "move start without offset",
        "scenario_start: 2019-07-18T10:00:00+04:00",
        "scenario_start: 2019-07-18T10:00:00",
        "2019-07-18",
        "the scenario start needs a UTC offset, e.g. 2019-06-20T04:05:00+04:00",
    ),
    (
        "move time scale out of range",
        "time_scale: 20",
        "time_scale: 0",
        "0\n",
        "'time_scale' must be more than 0.0, found the number 0",
    ),
    # channels
    (
        "write: unknown position",
        "write: [us-state, ir-fm]",
        "write: [us-state, ir-fm, nobody]",
        "nobody",
        f"unknown position 'nobody' in 'write' (positions: {POSITIONS})",
    ),
    (
        "write: a position of a non-member team",
        "write: [us-state, ir-fm]",
        "write: [us-state, ir-fm, om-colonel]",
        "om-colonel",
        "position 'om-colonel' belongs to team 'oman', which is not a member of channel 'swiss' (members: us, "
        "iran): only members write",
    ),
    (
        "write: below min_authority",
        "    write: [us-state, ir-fm]\n",
        "    write: [us-state, ir-fm]\n    min_authority: 4\n",
        "us-state",
        "position 'us-state' has authority 3, below the min_authority 4 of channel 'swiss'",
    ),
    (
        "write: a member without a writer",
        "write: [us-state, ir-fm]",
        "write: [us-state]",
        "[us-state]",
        "member team 'iran' has no position in 'write', so it could not write on channel 'swiss' (name one of its "
        "positions, or take it out of 'members')",
    ),
    (
        "read: a position of a team that cannot see the channel",
        "    write: [us-state, ir-fm]\n",
        "    write: [us-state, ir-fm]\n    read: [om-general]\n",
        "om-general",
        "position 'om-general' belongs to team 'oman', which cannot see channel 'swiss' (teams that can: us, iran)",
    ),
    (
        "read: named twice",
        "    write: [us-state, ir-fm]\n",
        "    write: [us-state, ir-fm]\n    read: [us-general, us-general]\n",
        "us-general]",
        "position 'us-general' is named twice in 'read'",
    ),
    (
        "read: a member that could neither read nor write",
        "    write: [us-state, ir-fm]\n",
        "    read: [us-state]\n",
        "[us-state]",
        "member team 'iran' has no position in 'read', so it could not write on channel 'swiss' (name one of its "
        "positions, or take it out of 'members')",
    ),
    (
        "read or write: an empty list",
        "write: [us-state, ir-fm]",
        "write: []",
        "[]",
        "'write' needs at least 1 entries, found 0",
    ),
    (
        "receiver_sees on a broadcast channel",
        "    members: [us, iran]\n  - id: swiss",
        "    members: [us, iran]\n    receiver_sees: team\n  - id: swiss",
        "receiver_sees",
        "'receiver_sees' applies only to relay channels (channel 'public' is broadcast)",
    ),
    (
        "sender_learns on a broadcast channel",
        "    members: [us, iran]\n  - id: swiss",
        "    members: [us, iran]\n    sender_learns: []\n  - id: swiss",
        "sender_learns",
        "'sender_learns' applies only to relay channels (channel 'public' is broadcast)",
    ),
    (
        "sender_learns: unknown news",
        "    receiver_sees: team\n",
        "    receiver_sees: team\n    sender_learns: [delivered, sent]\n",
        "sent",
        "'sent' is not a valid 'sender_learns' (expected one of: 'forwarded', 'forwarded_with_changes', 'held', "
        "'declined' or 'delivered')",
    ),
    (
        "sender_learns: named twice",
        "    receiver_sees: team\n",
        "    receiver_sees: team\n    sender_learns: [delivered, held, delivered]\n",
        "delivered]",
        "'delivered' is named twice in 'sender_learns'",
    ),
    (
        "receiver_sees: unknown value",
        "receiver_sees: team",
        "receiver_sees: everything",
        "everything",
        "'everything' is not a valid 'receiver_sees' (expected one of: 'team', 'position' or 'via')",
    ),
    (
        "initially: unknown value",
        "    receiver_sees: team\n",
        "    receiver_sees: team\n    initially: ajar\n",
        "ajar",
        "'ajar' is not a valid 'initially' (expected one of: 'open' or 'closed')",
    ),
    # personas, escalation, hotwash
    (
        "persona of an unknown team",
        "    team: oman\n",
        "    team: qatar\n",
        "qatar",
        "unknown team 'qatar' in 'team' (teams: us, iran, oman)",
    ),
    (
        "duplicate persona id",
        "    team: oman\n",
        "    team: oman\n  - id: oman-mfa\n    name: Again\n",
        "oman-mfa\n    name: Again",
        "duplicate persona id 'oman-mfa' (first at line 39)",
    ),
    (
        "duplicate rung level",
        "    - level: 3\n",
        "    - level: 0\n",
        "0\n      name: Crisis",
        "duplicate rung level 0 (first at line 45)",
    ),
    (
        "rungs out of order",
        "    - level: 0\n      name: Calm\n    - level: 3\n      name: Crisis\n",
        "    - level: 3\n      name: Crisis\n    - level: 1\n      name: Calm\n",
        "1\n      name: Calm",
        "rungs go from the lowest level up: level 1 comes after level 3",
    ),
    (
        "rung without a name",
        "      name: Crisis\n",
        "",
        "level: 3",
        "missing required field 'name'",
    ),
    (
        "duplicate question id",
        "    - id: q-trust",
        "    - id: q-line",
        "q-line\n",
        "duplicate question id 'q-line' (first at line 51)",
    ),
    (
        "unknown question kind",
        "kind: scale",
        "kind: stars",
        "stars",
        "'stars' is not a valid 'kind' (expected one of: 'text' or 'scale')",
    ),
    # conditions
    (
        "no_message: a team that does not write on the channel",
        "team: us, channel: oman-line",
        "team: oman, channel: bridge",
        "oman, channel",
        "team 'oman' does not write on channel 'bridge' (members: us, iran)",
    ),
    (
        "no_message: unknown team",
        "team: us, channel: oman-line",
        "team: uk, channel: oman-line",
        "uk",
        "unknown team 'uk' in 'no_message' (teams: us, iran, oman)",
    ),
    (
        "no_message: unknown channel",
        "team: us, channel: oman-line",
        "team: us, channel: radio",
        "radio",
        "unknown channel 'radio' in 'no_message' (channels: oman-line, flag-line, bridge, public, swiss)",
    ),
    (
        "no_message: unknown inject in after",
        "after: shootdown}",
        "after: shotdown}",
        "shotdown",
        f"unknown inject 'shotdown' in 'no_message' (injects: {KNOWN_INJECTS})",
    ),
    (
        "no_message: a bad duration",
        "within: 15m",
        "within: 15",
        "15,",
        "expected a duration like 90s, 15m, 2h or 1h30m, found the number 15: add a unit (s, m or h)",
    ),
    (
        "no_ack: an inject that asks for none",
        "no_ack: {inject: shootdown",
        "no_ack: {inject: options",
        "options, team",
        "inject 'options' does not ask for an acknowledgement (give it ack: true)",
    ),
    (
        "no_ack: a team the inject does not go to",
        "    to: all\n    from: IRNA",
        "    to: [us, oman]\n    from: IRNA",
        "iran, within: 5m",
        "team 'iran' does not receive inject 'shootdown' (it goes to us, oman)",
    ),
    (
        "no_decision: an inject without a decision",
        "no_decision: {inject: options",
        "no_decision: {inject: chase",
        "chase, within",
        "inject 'chase' asks for no decision (injects with decisions: options)",
    ),
    (
        "no_decision: past the deadline",
        "no_decision: {inject: options, within: 8m}",
        "no_decision: {inject: options, within: 10m}",
        "10m}",
        "the decision of 'options' takes its default after 10m: 'no decision within 10m' could never hold",
    ),
    (
        "escalation: neither bound",
        "{escalation: {at_least: 2, at_most: 4}}",
        "{escalation: {}}",
        "{}}",
        "an escalation condition needs at_least, at_most or both",
    ),
    (
        "escalation: an empty band",
        "{escalation: {at_least: 2, at_most: 4}}",
        "{escalation: {at_least: 5, at_most: 4}}",
        "{at_least: 5",
        "at_least 5 is above at_most 4: no level could hold",
    ),
    (
        "option: unknown option",
        "- when: {option: {decision: options, option: strike}}",
        "- when: {option: {decision: options, option: nuke}}",
        "nuke",
        "unknown option 'nuke' of decision 'options' (options: strike, warn)",
    ),
    (
        "option: an inject without a decision",
        "- when: {option: {decision: options, option: strike}}",
        "- when: {option: {decision: debris, option: strike}}",
        "debris",
        "inject 'debris' asks for no decision (injects with decisions: options)",
    ),
    (
        "option: no option",
        "- when: {option: {decision: options, option: strike}}",
        "- when: {option: {decision: options}}",
        "{decision: options}",
        "missing required field 'option'",
    ),
    (
        "a condition of two kinds",
        "unless: {escalation: {at_least: 3}}",
        "unless: {escalation: {at_least: 3}, no_decision: {inject: options, within: 1m}}",
        "{escalation",
        "a condition has one kind, found 'escalation' and 'no_decision': combine them with all: [...] or any: [...]",
    ),
    (
        "an empty condition",
        "unless: {escalation: {at_least: 3}}",
        "unless: {}",
        "{}",
        "an empty condition: expected one of no_message, no_ack, no_decision, escalation, option, all, any",
    ),
    (
        "an unknown kind of condition",
        "unless: {escalation: {at_least: 3}}",
        "unless: {silence: {team: us}}",
        "silence",
        "unknown field 'silence' (expected one of: no_message, no_ack, no_decision, escalation, option, all, any)",
    ),
    (
        "conditions nested too deep",
        "unless: {escalation: {at_least: 3}}",
        "unless: {any: [{any: [{any: [{any: [{any: [{escalation: {at_most: 1}}]}]}]}]}]}",
        "{escalation: {at_most",
        "conditions nest at most 5 levels deep (all: and any: in each other)",
    ),
    (
        "an empty all",
        "unless: {escalation: {at_least: 3}}",
        "unless: {all: []}",
        "[]",
        "'all' needs at least 1 entries, found 0",
    ),
    (
        "when with at",
        '    at: "+00:10"\n',
        '    at: "+00:10"\n    when: {escalation: {at_least: 1}}\n',
        "when",
        "an inject cannot have both 'at' and 'when': it is either timed or conditional",
    ),
    (
        "when with trigger",
        "    trigger: {inject: boxer-opener}\n",
        "    trigger: {inject: boxer-opener}\n    when: {escalation: {at_least: 1}}\n",
        "when",
        "an inject cannot have both 'trigger' and 'when': it is either triggered or conditional",
    ),
    # choices
    (
        "otherwise not last",
        "      - otherwise: boxer-quiet\n",
        "      - otherwise: boxer-quiet\n      - when: {escalation: {at_least: 1}}\n        inject: debris\n",
        "otherwise: boxer-quiet",
        "'otherwise' comes last in 'choose'",
    ),
    (
        "otherwise with more",
        "      - otherwise: boxer-quiet\n",
        "      - otherwise: boxer-quiet\n        inject: debris\n",
        "otherwise: boxer-quiet",
        "an 'otherwise' entry stands alone: {otherwise: ID}",
    ),
    (
        "a choice entry without its inject",
        "        inject: boxer-after-strike\n",
        "",
        "when: {option",
        "a choice entry needs 'when' and 'inject' (or is {otherwise: ID}, last)",
    ),
    (
        "a choice of nothing but otherwise",
        "      - when: {option: {decision: options, option: strike}}\n        inject: boxer-after-strike\n",
        "",
        "- otherwise",
        "a choice needs at least one {when: CONDITION, inject: ID} entry before 'otherwise'",
    ),
    (
        "an unknown alternative",
        "inject: boxer-after-strike",
        "inject: boxer-after",
        "boxer-after\n",
        "unknown inject 'boxer-after' in 'choose' (injects: shootdown, options, chase, nudge, flag-open, debris, "
        "boxer-opener, boxer-after-strike, boxer-quiet, close-bridge)",
    ),
    (
        "a choice releasing itself",
        "inject: boxer-after-strike",
        "inject: boxer-opener",
        "boxer-opener\n",
        "choice 'boxer-opener' cannot release itself",
    ),
    (
        "an alternative with its own release",
        "  - id: boxer-quiet\n",
        '  - id: boxer-quiet\n    at: "+01:05"\n',
        "boxer-quiet\n  - id: boxer-after",
        "inject 'boxer-quiet' has its own 'at': an alternative is released only by its choice",
    ),
    (
        "an alternative named twice",
        "inject: boxer-after-strike",
        "inject: boxer-quiet",
        "boxer-quiet\n  - id: boxer-after",
        "inject 'boxer-quiet' is already an alternative of 'boxer-opener' (line 117)",
    ),
    (
        "a choice with content",
        "    title: Move 2 opener\n",
        "    title: Move 2 opener\n    body: Hello\n",
        "body",
        "'body' does not apply to a choice: inject 'boxer-opener' releases one of its alternatives, which carry "
        "their own content",
    ),
    (
        "an inject without recipients",
        "    to: [oman]\n    title: Nobody",
        "    title: Nobody",
        "id: chase",
        "missing required field 'to'",
    ),
    # effects
    (
        "channel effect: unknown channel",
        "channel: {id: bridge, action: close}",
        "channel: {id: radio, action: close}",
        "radio",
        "unknown channel 'radio' in 'channel' (channels: oman-line, flag-line, bridge, public, swiss)",
    ),
    (
        "channel effect: unknown action",
        "channel: {id: bridge, action: close}",
        "channel: {id: bridge, action: jam}",
        "jam}",
        "'jam' is not a valid 'action' (expected one of: 'open' or 'close')",
    ),
    (
        "an effect of two kinds",
        "      - channel: {id: bridge, action: close}\n",
        "      - channel: {id: bridge, action: close}\n        escalation: 1\n",
        "channel: {id: bridge",
        "each effect is one of 'jam', 'escalation' or 'channel': write them as two effects",
    ),
    # cycles through conditions and choices
    (
        "a release cycle through a condition",
        '    at: "+01:00"\n    move: m2',
        "    when: {no_message: {team: us, channel: bridge, within: 5m, after: close-bridge}}\n    move: m2",
        "{no_message: {team: us, channel: bridge",
        "release cycle: boxer-opener -> close-bridge -> boxer-opener (none of them could ever be released)",
    ),
    (
        "a release cycle through a choice",
        '    at: "+01:00"\n    move: m2',
        "    trigger: {inject: boxer-quiet}\n    move: m2",
        "{inject: boxer-quiet}",
        "release cycle: boxer-opener -> boxer-quiet -> boxer-opener (none of them could ever be released)",
    ),
    # the base file
    (
        "base: missing",
        "base: bases/three-teams.yaml",
        "base: bases/four-teams.yaml",
        "bases/four",
        "base 'bases/four-teams.yaml' does not exist in injects/",
    ),
    (
        "base: outside injects/",
        "base: bases/three-teams.yaml",
        "base: ../format2.yaml",
        "../format2",
        "base '../format2.yaml' points outside injects/",
    ),
    (
        "base: absolute",
        "base: bases/three-teams.yaml",
        "base: /etc/passwd.yaml",
        "/etc",
        "base '/etc/passwd.yaml' must be a path relative to injects/ or to the script's folder",
    ),
    (
        "base: not YAML",
        "base: bases/three-teams.yaml",
        "base: maps/map.svg",
        "maps/map.svg",
        "base 'maps/map.svg' must name a .yaml file in injects/",
    ),
    (
        "base: not a path",
        "base: bases/three-teams.yaml",
        "base: [bases/three-teams.yaml]",
        "[bases",
        "'base' takes a path in injects/, found a list",
    ),
]


@pytest.mark.parametrize(("rule", "old", "new", "anchor", "message"), CASES, ids=[c[0] for c in CASES])
def test_broken_copy_reports_rule_at_its_place(tmp_path, library, rule, old, new, anchor, message):
    assert old in SCRIPT, f"the case '{rule}' no longer matches format2.yaml"
    text = SCRIPT.replace(old, new, 1)
    errors = errors_of(tmp_path, text, library)
    line, column = place(text, SCRIPT.index(old), anchor)
    assert f"broken.yaml:{line}:{column}: {message}" in errors, errors


def test_the_format2_script_and_its_base_are_otherwise_clean(tmp_path, library):
    """Each case above breaks one rule: the unbroken script gives no error at all."""
    (tmp_path / "ok.yaml").write_text(SCRIPT, encoding="utf-8")
    load_exercise(tmp_path / "ok.yaml", library=library)


# (rule, old text in the base file, new text, anchor, exact message): located in the base file
BASE_CASES = [
    (
        "unknown field in a base",
        "teams:\n",
        "injects: []\nteams:\n",
        "injects",
        "unknown field 'injects' in a base file (expected one of: teams, channels, personas, escalation, hotwash)",
    ),
    ("a base naming a base", "teams:\n", "base: other.yaml\nteams:\n", "base", "a base file cannot name another base"),
    (
        "an unknown position inside the base",
        "write: [us-ship, ir-boat]",
        "write: [us-ship, ir-boat, ir-boot]",
        "ir-boot",
        f"unknown position 'ir-boot' in 'write' (positions: {POSITIONS})",
    ),
    (
        "a duplicate inside the base",
        "      - id: om-general",
        "      - id: om-colonel",
        "om-colonel\n        title: Omani general",
        "duplicate position id 'om-colonel' (first at line 36)",
    ),
    (
        "a wrong type inside the base",
        "        title: Tactical action officer\n",
        "        title: Tactical action officer\n        authority: high\n",
        "high",
        "expected a whole number for 'authority', found 'high'",
    ),
    (
        "a relay read list without the intermediary",
        "    read: [om-general]\n",
        "    read: [us-colonel]\n",
        "[us-colonel]",
        "no position of relay team 'oman' is in 'read': the intermediary could not see what to pass on channel "
        "'flag-line'",
    ),
    (
        "a base that is not a list",
        "personas:\n  - id: irna",
        "personas: irna\nx:\n  - id: irna",
        "irna\nx",
        "expected a list for 'personas', found 'irna'",
    ),
]


@pytest.mark.parametrize(("rule", "old", "new", "anchor", "message"), BASE_CASES, ids=[c[0] for c in BASE_CASES])
def test_a_broken_base_reports_the_rule_in_the_base_file(tmp_path, rule, old, new, anchor, message):
    lib = tmp_path / "lib"
    shutil.copytree(DATA / "lib", lib)
    assert old in BASE_TEXT, f"the case '{rule}' no longer matches the base file"
    text = BASE_TEXT.replace(old, new, 1)
    (lib / "bases" / "three-teams.yaml").write_text(text, encoding="utf-8")
    errors = errors_of(tmp_path, SCRIPT, lib)
    line, column = place(text, BASE_TEXT.index(old), anchor)
    assert f"injects/bases/three-teams.yaml:{line}:{column}: {message}" in errors, errors


def test_a_base_that_is_not_a_mapping(tmp_path):
    lib = tmp_path / "lib"
    shutil.copytree(DATA / "lib", lib)
    (lib / "bases" / "three-teams.yaml").write_text("- us\n- iran\n", encoding="utf-8")
    errors = errors_of(tmp_path, SCRIPT, lib)
    assert (
        "injects/bases/three-teams.yaml:1:1: a base file must be a mapping of teams, channels, personas, escalation, "
        "hotwash, found a list" in errors
    )


def test_a_script_replaces_a_base_entry_in_its_place(tmp_path, library):
    text = SCRIPT.replace(
        "channels:\n  - id: public",
        "teams:\n  - id: iran\n    name: Islamic Republic of Iran\n    positions:\n"
        "      - {id: ir-colonel, title: Colonel, authority: 2}\n"
        "      - {id: ir-general, title: General, authority: 3}\n"
        "      - {id: ir-boat, title: Boat}\n      - {id: ir-fm, title: FM, authority: 3}\n"
        "channels:\n  - id: public",
    )
    (tmp_path / "s.yaml").write_text(text, encoding="utf-8")
    exercise = load_exercise(tmp_path / "s.yaml", library=library)
    assert [t.id for t in exercise.teams] == ["us", "iran", "oman"]
    assert exercise.team("iran").name == "Islamic Republic of Iran"
    # an error in the replacing entry points into the script, one in a kept entry into the base
    broken = text.replace("{id: ir-boat, title: Boat}", "{id: ir-boat, title: Boat, authority: x}")
    errors = errors_of(tmp_path, broken, library)
    line, column = place(broken, 0, "x}")
    assert f"broken.yaml:{line}:{column}: expected a whole number for 'authority', found 'x'" in errors


# --- format 1 is told what needs format 2 ------------------------------------------------------

FORMAT1_CASES = [
    (
        "moves",
        "duration: 1h\n",
        "duration: 1h\nmoves: []\n",
        "moves",
        "'moves' needs format: 2 (this script says format: 1)",
    ),
    (
        "base",
        "duration: 1h\n",
        "duration: 1h\nbase: x.yaml\n",
        "base",
        "'base' needs format: 2 (this script says format: 1)",
    ),
    (
        "escalation",
        "duration: 1h\n",
        "duration: 1h\nescalation: {start: 1}\n",
        "escalation",
        "'escalation' needs format: 2 (this script says format: 1)",
    ),
    (
        "hotwash",
        "duration: 1h\n",
        "duration: 1h\nhotwash: {questions: []}\n",
        "hotwash",
        "'hotwash' needs format: 2 (this script says format: 1)",
    ),
    (
        "personas",
        "duration: 1h\n",
        "duration: 1h\npersonas: []\n",
        "personas",
        "'personas' needs format: 2 (this script says format: 1)",
    ),
    (
        "channel write",
        "    relay: oman\n",
        "    relay: oman\n    write: [j3]\n",
        "write",
        "'write' needs format: 2 (this script says format: 1)",
    ),
    (
        "channel initially",
        "    kind: direct\n",
        "    kind: direct\n    initially: closed\n",
        "initially",
        "'initially' needs format: 2 (this script says format: 1)",
    ),
    (
        "inject fiction",
        "    title: Tanker seized\n",
        "    title: Tanker seized\n    fiction: true\n",
        "fiction",
        "'fiction' needs format: 2 (this script says format: 1)",
    ),
    (
        "inject when",
        "    title: Tanker seized\n",
        "    title: Tanker seized\n    when: {escalation: {at_least: 2}}\n",
        "when",
        "'when' needs format: 2 (this script says format: 1)",
    ),
    (
        "channel effect",
        "      - escalation: 1\n",
        "      - escalation: 1\n      - channel: {id: bridge, action: close}\n",
        "channel: {id",
        "'channel' needs format: 2 (this script says format: 1)",
    ),
    (
        "unknown field lists only format 1",
        "    title: Tanker seized\n",
        "    title: Tanker seized\n    colour: red\n",
        "colour",
        "unknown field 'colour' (expected one of: id, at, trigger, delay, to, from, medium, title, body, "
        "attachments, expect, objectives, notes, ack, decision, effects)",
    ),
]


@pytest.mark.parametrize(("rule", "old", "new", "anchor", "message"), FORMAT1_CASES, ids=[c[0] for c in FORMAT1_CASES])
def test_format1_script_is_told_what_needs_format2(tmp_path, library, rule, old, new, anchor, message):
    assert old in MINIMAL
    text = MINIMAL.replace(old, new, 1)
    errors = errors_of(tmp_path, text, library)
    line, column = place(text, MINIMAL.index(old), anchor)
    assert f"broken.yaml:{line}:{column}: {message}" in errors, errors


def test_a_format2_script_may_use_the_format1_fields_alone(tmp_path, library):
    (tmp_path / "s.yaml").write_text(MINIMAL.replace("format: 1", "format: 2"), encoding="utf-8")
    exercise = load_exercise(tmp_path / "s.yaml", library=library)
    assert exercise.format == 2 and exercise.scenario is not None and exercise.moves == ()


def test_the_gulf_base_file_follows_the_briefing(tmp_path):
    """injects/bases/gulf-three-teams.yaml: colonels on the line, one-stars on a closed flag-level line,
    ships and boats on VHF 16, foreign ministries on the Swiss channel, receivers see only "via Oman"."""
    script = tmp_path / "gulf.yaml"
    script.write_text("format: 2\nbase: bases/gulf-three-teams.yaml\nid: gulf\ntitle: Gulf\n", encoding="utf-8")
    gulf = load_exercise(script)
    rank = {p.id: p.authority for t in gulf.teams for p in t.positions}
    line, flag, bridge, swiss = (gulf.channel(c) for c in ("oman-line", "flag-line", "bridge", "swiss"))
    assert line.write is not None and {rank[p] for p in line.write} == {2}
    assert flag.write is not None and {rank[p] for p in flag.write} == {3} and flag.initially == "closed"
    assert bridge.write is not None and {rank[p] for p in bridge.write} == {1}
    assert swiss.write == ("us-state", "iran-mfa")
    assert line.receiver_sees == "via" and not line.sender_told("forwarded_with_changes")
    assert not gulf.can_write(line, "centcom-j3") and not gulf.can_write(line, "irgcn-commander")
    assert not gulf.can_read(flag, "oman-liaison") and gulf.can_relay(flag, "oman-general")
    assert gulf.escalation.rung(0) is not None and len(gulf.hotwash.questions) == 4 and gulf.personas
    # The authority convention (docs/exercise-format.md): the Iranian half ends at the General Staff, the
    # Swiss channel is the ministries' alone, public statements need authority 4.
    assert not gulf.can_read(line, "irgcn-commander") and not gulf.can_read(flag, "irgcn-commander")
    assert not gulf.can_read(swiss, "centcom-j3") and gulf.can_read(swiss, "iran-mfa")
    assert {rank[p] for p in ("us-state", "iran-mfa", "centcom-j3", "afgs-deputy", "sof-cos")} == {4}
    assert gulf.channel("public").min_authority == 4 and all(t.brief for t in gulf.teams)


def test_a_team_without_positions_adds_a_brief_to_the_base_team(tmp_path):
    """A script's team without positions keeps the base's seats and takes the script's brief; a team
    with positions replaces the base's whole, and its problems point into the right file."""
    script = tmp_path / "gulf.yaml"
    script.write_text(
        "format: 2\nbase: bases/gulf-three-teams.yaml\nid: gulf\ntitle: Gulf\n"
        "teams:\n  - id: us\n    brief: The drone is down.\n  - id: oman\n    name: Oman\n",
        encoding="utf-8",
    )
    gulf = load_exercise(script)
    us, oman = gulf.team("us"), gulf.team("oman")
    assert us is not None and us.brief == "The drone is down." and us.name == "United States"
    assert [p.id for p in us.positions][:2] == ["us-line-colonel", "centcom-one-star"]
    assert oman is not None and oman.name == "Oman" and oman.intermediary and len(oman.positions) == 3
    script.write_text(script.read_text(encoding="utf-8") + "    positions: 3\n", encoding="utf-8")
    with pytest.raises(ScriptError) as info:
        load_exercise(script)
    assert any(p.mark.file.endswith("gulf.yaml") and "for 'positions'" in p.message for p in info.value.problems)


def test_the_format2_example_of_the_docs_loads(tmp_path):
    docs = (ROOT / "docs" / "exercise-format.md").read_text(encoding="utf-8")
    section = docs[docs.index("## A format-2 example") :]
    example = section[section.index("```yaml\n") + 8 : section.index("```\n", section.index("```yaml\n") + 8)]
    path = tmp_path / "example.yaml"
    path.write_text(example, encoding="utf-8")
    exercise = load_exercise(path)
    assert exercise.format == 2 and exercise.scenario_at(3600) == datetime(2019, 7, 18, 10, 0, tzinfo=GULF)
    assert exercise.choice_of("boxer-transit") is not None and exercise.channel("flag-line").initially == "closed"
