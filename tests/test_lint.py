"""`exercise lint`: each rule on a small script, and the command."""

from __future__ import annotations

from datetime import UTC
from pathlib import Path

import pytest
import yaml

from tabletop.script.lint import Slot, clock_times, lint_file, named_moves

BASE = """\
format: 2
id: lint-base
title: Lint base
duration: 60m
moves:
  - id: m1
    title: Move 1
    at: "+00:00"
    scenario_start: 2019-06-20T04:05:00+04:00
  - id: m2
    title: Move 2
    at: "+00:30"
    scenario_start: 2019-07-18T10:00:00+04:00
    stop_clock: false
objectives:
  - id: obj-one
    text: Move 1. First contact through the line.
  - id: obj-two
    text: Move 2. Warnings before any action.
teams:
  - id: blue
    name: Blue
    positions: [{id: blue-cmdr, title: Blue commander, authority: 3}]
  - id: red
    name: Red
    positions: [{id: red-hq, title: Red headquarters, authority: 3}]
  - id: broker
    name: Sultanate of Oman
    intermediary: true
    positions: [{id: broker-officer, title: Broker officer, authority: 2}]
channels:
  - id: oman-line
    name: Oman line
    kind: relay
    members: [blue, red]
    relay: broker
injects:
  - {id: a, at: "+00:00", to: all, title: Start, objectives: [obj-one]}
  - {id: b, at: "+00:20", to: all, title: Middle, objectives: [obj-one]}
  - {id: c, at: "+00:40", to: all, title: Boxer, objectives: [obj-two]}
  - {id: d, at: "+00:55", to: all, title: End, objectives: [obj-two]}
"""


def script(tmp_path: Path, change=None) -> Path:
    data = yaml.safe_load(BASE)
    if change is not None:
        change(data)
    path = tmp_path / "lint.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def findings(tmp_path: Path, change=None, rule: str | None = None):
    found = lint_file(script(tmp_path, change))
    return [f for f in found if rule is None or f.rule == rule]


def inject(data, ident):
    return next(i for i in data["injects"] if i["id"] == ident)


def test_the_base_script_lints_clean(tmp_path):
    assert findings(tmp_path) == []


# ----------------------------------------------------------------------------- clock-time
@pytest.mark.parametrize(
    "body",
    [
        "**04:25 Gulf time.** The line rings.",
        "The line rings at 04:25 Gulf time.",
        "It is 20:25 on 19 June in Washington and 00:25 GMT.",
        "**04:30.** Close enough: within 15 minutes.",
    ],
)
def test_a_clock_time_that_matches_the_scenario_time_passes(tmp_path, body):
    def change(data):
        inject(data, "b")["body"] = body

    assert findings(tmp_path, change, "clock-time") == []


@pytest.mark.parametrize(
    ("body", "said"),
    [
        ("**06:00 Gulf time.** The line rings.", "06:00 Gulf time"),
        ("Reports came in.\nAt 16:00 Gulf time the line rings.", "16:00 Gulf time"),
        ("**05:40.** The line rings.", "05:40"),
        ("It is 20:25 on 20 June in Washington.", "20:25 on 20 June in Washington"),
    ],
)
def test_a_clock_time_that_disagrees_is_a_warning_at_its_line(tmp_path, body, said):
    def change(data):
        inject(data, "b")["body"] = body

    found = findings(tmp_path, change, "clock-time")
    assert len(found) == 1, found
    text = str(found[0])
    assert f"says '{said}'" in text and "released at +00:20" in text and "20 Jun 2019 04:25" in text
    assert text.startswith(f"{tmp_path / 'lint.yaml'}:") and ": warning: " in text and text.endswith("[clock-time]")
    source = (tmp_path / "lint.yaml").read_text(encoding="utf-8").splitlines()
    assert said.split()[0] in source[found[0].mark.line - 1]  # the line that holds the time


def test_other_moments_and_later_moves_are_read_right(tmp_path):
    def change(data):
        inject(data, "b")["body"] = "Nothing moved since 01:00 Gulf time; the deadline is before 09:00 Gulf time."
        inject(data, "c")["body"] = "**10:10 Gulf time, 18 July.** The drone closes."  # move 2's own clock

    assert findings(tmp_path, change, "clock-time") == []
    moment = clock_times("**04:05 Gulf time.** x", UTC)
    assert [(c.hour, c.minute) for c in moment] == [(4, 5)]


# ------------------------------------------------------------------------- objective-move
def test_an_inject_testing_another_moves_objective_is_a_warning(tmp_path):
    def change(data):
        inject(data, "c")["objectives"] = ["obj-two", "obj-one"]

    found = findings(tmp_path, change, "objective-move")
    assert len(found) == 1
    assert "inject 'c' (move 'm2') tests objective 'obj-one', which belongs to move 'm1'" in found[0].message
    assert "its text names move 1" in found[0].message


def test_an_objective_may_name_several_moves(tmp_path):
    def change(data):
        data["objectives"][0]["text"] = "Moves 1 and 2. First contact through the line."
        inject(data, "c")["objectives"] = ["obj-one"]

    assert findings(tmp_path, change, "objective-move") == []
    assert named_moves("Moves 1-3. x", 4) == {1, 2, 3} and named_moves("In Move 2, y", 2) == {2}


def test_an_objective_naming_no_move_belongs_where_most_of_its_injects_are(tmp_path):
    def change(data):
        data["objectives"][0]["text"] = "First contact through the line."
        data["injects"].append({"id": "e", "at": "+00:10", "to": "all", "title": "Ten", "objectives": ["obj-one"]})
        inject(data, "c")["objectives"] = ["obj-one"]

    found = findings(tmp_path, change, "objective-move")
    assert len(found) == 1 and found[0].message.startswith("inject 'c' (move 'm2') tests objective 'obj-one'")
    assert "3 of the 4 injects that test it fall there" in found[0].message

    def even(data):
        change(data)
        inject(data, "d")["objectives"] = ["obj-one"]  # 3 against 2: no clear home, no warning

    assert findings(tmp_path, even, "objective-move") == []


# -------------------------------------------------------------------------- channel-score
def decisions(*options):
    """Two decisions to blue, each with these (label, escalation) options."""

    def change(data):
        for ident in ("a", "b"):
            inject(data, ident)["to"] = ["blue"]
            inject(data, ident)["decision"] = {
                "prompt": "What now?",
                "options": [
                    {"id": f"o{k}", "label": label, "escalation": level} for k, (label, level) in enumerate(options)
                ],
            }

    return change


def test_every_option_using_a_channel_scoring_alike_is_a_warning(tmp_path):
    change = decisions(("Ask Oman to pass a warning", -1), ("Fire warning shots", 2), ("Hold course", 0))
    found = findings(tmp_path, change, "channel-score")
    assert len(found) == 1
    assert "every option that uses the Oman line (2: a/o0, b/o0) scores -1" in found[0].message


def test_a_channel_always_the_calmest_choice_is_a_warning(tmp_path):
    change = decisions(("Ask Oman to pass a warning", 0), ("Fire warning shots", 2), ("Hold course", 1))
    found = findings(tmp_path, change, "channel-score")
    assert len(found) == 1 and "it is the least escalatory option" in found[0].message


def test_options_scored_by_what_they_do_pass(tmp_path):
    change = decisions(("Ask Oman to pass a warning", 0), ("Fire warning shots", 2), ("Hold course", 0))
    assert findings(tmp_path, change, "channel-score") == []


# ------------------------------------------------------------------------------ idle-seat
def test_a_team_with_nothing_for_more_than_30_minutes_is_a_warning(tmp_path):
    def change(data):
        inject(data, "b")["to"] = ["blue", "broker"]

    found = findings(tmp_path, change, "idle-seat")
    assert [f.message.split(" receives")[0] for f in found] == ["team 'red'"]
    assert "from +00:00 to +00:40 (40 min)" in found[0].message


def test_a_timed_choice_keeps_busy_the_teams_all_its_alternatives_reach(tmp_path):
    def change(data):
        inject(data, "a")["decision"] = {
            "prompt": "Now?",
            "options": [{"id": "yes", "label": "Yes"}, {"id": "no", "label": "No"}],
        }
        b = inject(data, "b")
        b.pop("to")
        b.pop("objectives")
        b["choose"] = [
            {"when": {"option": {"decision": "a", "option": "yes"}}, "inject": "b-yes"},
            {"otherwise": "b-no"},
        ]
        data["injects"] += [{"id": "b-yes", "to": "all", "title": "Yes"}, {"id": "b-no", "to": "all", "title": "No"}]

    assert findings(tmp_path, change, "idle-seat") == []

    def one_misses(data):
        change(data)
        inject(data, "b-no")["to"] = ["blue", "broker"]

    found = findings(tmp_path, one_misses, "idle-seat")
    assert [f.message.split(" receives")[0] for f in found] == ["team 'red'"]


def test_a_position_nobody_names_or_asks_is_a_warning(tmp_path):
    def change(data):
        data["teams"][0]["positions"].append({"id": "blue-tao", "title": "Tactical action officer", "authority": 1})

    found = [f for f in findings(tmp_path, change, "idle-seat") if "position 'blue-tao'" in f.message]
    assert len(found) == 1 and "from +00:00 to +01:00 (1 h)" in found[0].message
    assert "a word only its title has: action, officer, tactical" in found[0].message

    def named(data):
        change(data)
        for ident in ("a", "b", "c", "d"):
            inject(data, ident)["body"] = "The tactical officer reports to the Blue commander."

    assert findings(tmp_path, named, "idle-seat") == []


# ----------------------------------------------------------------------------------- slot
def test_play_and_hotwash_over_the_slot_is_a_warning(tmp_path):
    def change(data):
        data["duration"] = "1h30m"
        data["moves"][1]["stop_clock"] = True

    found = findings(tmp_path, change, "slot")
    assert len(found) == 1
    assert found[0].message == (
        "play 1 h 30 min + read-in 10 min + 1 plenary of 10 min + hotwash 25 min = 2 h 15 min, "
        "over the 2 h slot by 15 min"
    )
    assert all(f.rule != "slot" for f in lint_file(script(tmp_path, change), slot=Slot(length=3 * 3600)))


# -------------------------------------------------------------------------------- the CLI
def test_lint_command(runner, tmp_path):
    clean = script(tmp_path)
    result = runner.invoke(args=["exercise", "lint", str(clean)])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"{clean}: lint clean"
    result = runner.invoke(args=["exercise", "lint", "--hotwash", "1h", str(clean)])
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"{clean}:4:11: warning: play 1 h + read-in 10 min + hotwash 1 h = 2 h 10 min, "
        "over the 2 h slot by 10 min [slot]",
        f"{clean}: 1 warning",
    ]
    result = runner.invoke(args=["exercise", "lint", "--hotwash", "1h", "--slot", "3h", str(clean)])
    assert result.exit_code == 0, result.output
    assert runner.invoke(args=["exercise", "lint", "--slot", "soon", str(clean)]).exit_code == 1
    broken = tmp_path / "broken.yaml"
    broken.write_text("format: 2\nid: x\n", encoding="utf-8")
    result = runner.invoke(args=["exercise", "lint", str(broken)])
    assert result.exit_code == 1 and "does not load" in result.output and "Traceback" not in result.output
