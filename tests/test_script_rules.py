"""Every rule of the format: a broken copy of a valid script gives the exact error at the right place."""

from __future__ import annotations

from pathlib import Path

import pytest

from tabletop.script import ScriptError, load_exercise

DATA = Path(__file__).parent / "data"
BASE = (DATA / "minimal.yaml").read_text(encoding="utf-8")


def place(text: str, start: int, anchor: str) -> tuple[int, int]:
    """Line and column (1-based) of anchor: the first after offset start, or else the last before it."""
    offset = text.find(anchor, start)
    if offset < 0:
        offset = text.rindex(anchor, 0, start)
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, column


def errors_of(tmp_path: Path, text: str, library: Path) -> list[str]:
    path = tmp_path / "broken.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScriptError) as info:
        load_exercise(path, library=library, display="broken.yaml")
    return [str(p) for p in info.value.problems]


# (rule, old text, new text, anchor where the error points, exact message)
CASES = [
    (
        "unknown team in to",
        "to: [us, oman]",
        "to: [us, teheran]",
        "teheran",
        "unknown team 'teheran' in 'to' (teams: us, iran, oman, or all)",
    ),
    (
        "unknown field",
        "    ack: true\n",
        "    ack: true\n    colour: red\n",
        "colour",
        "unknown field 'colour' (expected one of: id, at, trigger, delay, to, from, medium, title, body, "
        "attachments, expect, objectives, notes, ack, decision, effects)",
    ),
    (
        "wrong type",
        "        authority: 3\n      - id: liaison-us",
        "        authority: high\n      - id: liaison-us",
        "high",
        "expected a whole number for 'authority', found 'high'",
    ),
    (
        "wrong type: list expected",
        "positions:\n      - id: irgcn\n        title: IRGC Navy\n        authority: 3\n",
        "positions: irgcn\n",
        "irgcn",
        "expected a list for 'positions', found 'irgcn'",
    ),
    (
        "duplicate team id",
        "  - id: iran\n    name: Iran",
        "  - id: us\n    name: Iran",
        "us",
        "duplicate team id 'us' (first at line 14)",
    ),
    (
        "duplicate inject id",
        "  - id: tanker",
        "  - id: options",
        "options",
        "duplicate inject id 'options' (first at line 60)",
    ),
    (
        "duplicate position id",
        "      - id: irgcn",
        "      - id: j3",
        "j3",
        "duplicate position id 'j3' (first at line 17)",
    ),
    (
        "duplicate option id",
        "        - id: warn",
        "        - id: strike",
        "strike",
        "duplicate option id 'strike' (first at line 70)",
    ),
    (
        "unknown position in by",
        "by: [j3]",
        "by: [j4]",
        "j4",
        "unknown position 'j4' in 'by' (positions: irgcn, j3, liaison-us, omani-liaison)",
    ),
    (
        "position of a team the inject does not go to",
        "by: [j3]",
        "by: [irgcn]",
        "irgcn",
        "position 'irgcn' belongs to team 'iran', which this inject does not go to (us)",
    ),
    (
        "unknown channel in jam",
        "jam: {channel: bridge, for: 10m}",
        "jam: {channel: radio, for: 10m}",
        "radio",
        "unknown channel 'radio' in 'jam' (channels: oman-line, bridge, public)",
    ),
    (
        "unknown objective",
        "objectives: [obj-contact]",
        "objectives: [obj-calm]",
        "obj-calm",
        "unknown objective 'obj-calm' in 'objectives' (objectives: obj-contact)",
    ),
    (
        "unknown team in members",
        "members: [us, iran, oman]",
        "members: [us, iran, qatar]",
        "qatar",
        "unknown team 'qatar' in 'members' (teams: us, iran, oman)",
    ),
    (
        "unknown inject in trigger",
        "trigger: {inject: shootdown}",
        "trigger: {inject: shotdown}",
        "shotdown",
        "unknown inject 'shotdown' in 'trigger' (injects: shootdown, options, retaliation, follow-up, jamming, tanker)",
    ),
    (
        "unknown option in trigger",
        "option: strike}",
        "option: nuke}",
        "nuke",
        "unknown option 'nuke' of decision 'options' (options: strike, warn)",
    ),
    (
        "trigger on an inject without a decision",
        "trigger: {decision: options, option: strike}",
        "trigger: {decision: tanker, option: strike}",
        "tanker",
        "inject 'tanker' asks for no decision (injects with decisions: options)",
    ),
    (
        "decision trigger without option",
        "trigger: {decision: options, option: strike}",
        "trigger: {decision: options}",
        "{decision",
        "a decision trigger needs 'option' (options of 'options': strike, warn)",
    ),
    (
        "both at and trigger",
        "    trigger: {inject: shootdown}\n",
        '    trigger: {inject: shootdown}\n    at: "+00:05"\n',
        "trigger",
        "an inject cannot have both 'at' and 'trigger': it is either timed or triggered",
    ),
    (
        "delay without trigger",
        "  - id: tanker\n",
        "  - id: tanker\n    delay: 5m\n",
        "delay",
        "'delay' applies only to triggered injects (a timed inject sets its time with 'at')",
    ),
    (
        "relay team is also a member",
        "members: [us, iran]\n    relay: oman",
        "members: [us, iran, oman]\n    relay: oman",
        "oman\n    min",
        "relay team 'oman' is also a member of channel 'oman-line': the intermediary stands between the "
        "members and is not one of them",
    ),
    (
        "unknown relay team",
        "    relay: oman\n",
        "    relay: qatar\n",
        "qatar",
        "unknown team 'qatar' in 'relay' (teams: us, iran, oman, or control)",
    ),
    (
        "relay on a direct channel",
        "    kind: direct\n    members: [us, iran]\n",
        "    kind: direct\n    members: [us, iran]\n    relay: oman\n",
        "relay",
        "'relay' applies only to relay channels (channel 'bridge' is direct)",
    ),
    (
        "default not among options",
        "default: warn",
        "default: wait",
        "wait",
        "default 'wait' is not one of the options (strike, warn)",
    ),
    (
        "attachment missing",
        "attachments: [maps/map.svg]",
        "attachments: [maps/gone.svg]",
        "maps/gone.svg",
        "attachment 'maps/gone.svg' does not exist beside the script or in injects/",
    ),
    (
        "attachment outside",
        "attachments: [maps/map.svg]",
        "attachments: [../../etc/passwd.txt]",
        "../../etc",
        "attachment '../../etc/passwd.txt' points outside the script's folder and injects/",
    ),
    (
        "attachment absolute",
        "attachments: [maps/map.svg]",
        "attachments: [/etc/hosts.txt]",
        "/etc",
        "attachment '/etc/hosts.txt' must be a path relative to injects/ or to the script's folder",
    ),
    (
        "include missing",
        "include: gulf/jamming.yaml",
        "include: gulf/nothing.yaml",
        "gulf/nothing.yaml",
        "include 'gulf/nothing.yaml' does not exist in injects/",
    ),
    (
        "include outside",
        "include: gulf/jamming.yaml",
        "include: ../minimal.yaml",
        "../minimal.yaml",
        "include '../minimal.yaml' points outside injects/",
    ),
    (
        "trigger cycle",
        '  - id: shootdown\n    at: "+00:00"\n',
        "  - id: shootdown\n    trigger: {inject: follow-up}\n",
        "{inject: follow-up}",
        "trigger cycle: shootdown -> follow-up -> shootdown (none of them could ever be released)",
    ),
    ("syntax error", "    title: Options\n", "    title: [Options\n", "decision", None),
    (
        "bad duration",
        "deadline: 10m",
        "deadline: 10 minutes",
        "10 minutes",
        "'10 minutes' is not a duration like 90s, 15m, 2h or 1h30m",
    ),
    (
        "duration without unit",
        "deadline: 10m",
        "deadline: 10",
        "10",
        "expected a duration like 90s, 15m, 2h or 1h30m, found the number 10: add a unit (s, m or h)",
    ),
    (
        "offset without plus",
        'at: "+00:10"',
        'at: "00:10"',
        '"00:10"',
        '\'00:10\' is not an offset of exercise time like "+00:15" or "+01:05:30" (write "+00:10")',
    ),
    (
        "bad id",
        "  - id: obj-contact",
        "  - id: Obj Contact",
        "Obj Contact",
        "'Obj Contact' is not a valid id for 'id': use lowercase letters, digits, '-' and '_', starting with a letter "
        "or digit",
    ),
    (
        "unknown medium",
        "medium: news",
        "medium: telegram",
        "telegram",
        "'telegram' is not a valid 'medium' (expected one of: 'news', 'intel', 'email', 'phone', 'radio', 'order', "
        "'social' or 'other')",
    ),
    ("missing required field", "    title: Tanker seized\n", "\n", "id: tanker", "missing required field 'title'"),
    (
        "unsupported format",
        "format: 1",
        "format: 3",
        "3",
        "format the number 3 is not supported: this platform reads format 1 and format 2",
    ),
    (
        "duplicate key",
        "    title: Follow-up\n",
        "    title: Follow-up\n    title: Again\n",
        "title: Again",
        "duplicate key 'title' (first at line 87)",
    ),
    (
        "python tag",
        "    title: Tanker seized\n",
        "    title: !!python/object/apply:os.system [echo]\n",
        "!!python",
        "the tag 'tag:yaml.org,2002:python/object/apply:os.system' is not allowed: use plain YAML lists",
    ),
    (
        "scenario start without offset",
        "start: 2019-06-20T04:05:00+04:00",
        "start: 2019-06-20T04:05:00",
        "2019",
        "the scenario start needs a UTC offset, e.g. 2019-06-20T04:05:00+04:00",
    ),
    (
        "trigger with decision and inject",
        "trigger: {inject: shootdown}",
        "trigger: {inject: shootdown, decision: options}",
        "{inject",
        "a trigger is either {decision: ID, option: ID} or {inject: ID}, not both",
    ),
    (
        "channel id of the team chat",
        "  - id: bridge\n",
        "  - id: team\n",
        "team\n",
        "'team' is the id of every team's private chat and cannot be a channel id",
    ),
    (
        "effect with two kinds",
        "      - escalation: 1\n",
        "      - escalation: 1\n        jam: {channel: bridge, for: 1m}\n",
        "escalation: 1",
        "each effect is one of 'jam' or 'escalation': write them as two effects",
    ),
]


@pytest.mark.parametrize(("rule", "old", "new", "anchor", "message"), CASES, ids=[c[0] for c in CASES])
def test_broken_copy_reports_rule_at_its_place(tmp_path, library, rule, old, new, anchor, message):
    assert old in BASE, f"the case '{rule}' no longer matches minimal.yaml"
    text = BASE.replace(old, new, 1)
    errors = errors_of(tmp_path, text, library)
    line, column = place(text, BASE.index(old), anchor)
    if message is None:  # the message is checked in its own test; here the place
        assert any(e.startswith(f"broken.yaml:{line}:") for e in errors), errors
        return
    assert f"broken.yaml:{line}:{column}: {message}" in errors


def test_relay_channel_without_relay_team(tmp_path, library):
    text = BASE.replace("    relay: oman\n    min_authority: 2\n", "    min_authority: 2\n", 1)
    errors = errors_of(tmp_path, text, library)
    line, column = place(text, 0, "id: oman-line")
    assert (
        f"broken.yaml:{line}:{column}: relay channel 'oman-line' needs 'relay': the intermediary team or \"control\""
        in errors
    )


def test_syntax_error_names_line(tmp_path, library):
    errors = errors_of(tmp_path, BASE.replace("    title: Options\n", "    title: [Options\n", 1), library)
    assert len(errors) == 1
    assert errors[0].startswith("broken.yaml:") and "YAML syntax error" in errors[0]


def test_every_problem_reported_at_once(tmp_path, library):
    text = BASE.replace("to: [us, oman]", "to: [us, teheran]").replace("default: warn", "default: wait")
    text = text.replace("medium: news", "medium: telegram").replace(
        "    ack: true\n", "    ack: true\n    colour: red\n"
    )
    errors = errors_of(tmp_path, text, library)
    assert len(errors) == 4
    lines = [int(e.split(":")[1]) for e in errors]
    assert lines == sorted(lines)


def test_included_fields_errors_point_into_library_file(tmp_path):
    lib = tmp_path / "lib"
    (lib / "gulf").mkdir(parents=True)
    (lib / "maps").mkdir()
    (lib / "maps" / "map.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    (lib / "gulf" / "jamming.yaml").write_text("title: Jamming\nmedium: carrier-pigeon\n")
    errors = errors_of(tmp_path, BASE, lib)
    assert any(e.startswith("injects/gulf/jamming.yaml:2:9: 'carrier-pigeon' is not a valid 'medium'") for e in errors)


def test_including_entry_fields_win(library):
    exercise = load_exercise(DATA / "minimal.yaml", library=library)
    jamming = exercise.inject("jamming")
    assert jamming.title == "GPS jamming reported"  # from the library
    assert jamming.at == 30 * 60 and jamming.to == ("us",)  # from the including entry
    assert jamming.effects[0].jam is not None and jamming.effects[0].jam.for_ == 300
