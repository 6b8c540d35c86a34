"""Write the committed event-log fixtures in tests/data/logs/ (run once, by hand, on the code that wrote them).

`python -m tests.make_log_fixtures` plays three games through `Live` on a real store and writes, for each:
- `NAME.log.json`: the session's script snapshot and every stored event row as the store keeps it;
- `NAME.state.json`: the state that log folds to (`tests/log_fixtures.state_projection`);
- `NAME.report.json`: the report data built from it, whole (the golden report data).

They were first written by commit b0bdb2a's code (untyped payloads): the tests check that today's
code still loads those logs, folds them to the same state, and builds the same report data.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from tabletop.engine import NewEvent
from tabletop.engine.events import PARTICIPANT_JOINED
from tabletop.rehearse import rehearse

from .engine_helpers import Game, make_game
from .log_fixtures import LOGS, report_projection, state_projection
from .report_helpers import play


def _control_game(tmp: Path) -> Game:
    """Every control action and the event types the report game lacks."""
    game = make_game(tmp)
    for key in ("us", "us2", "iran", "oman"):
        actor = game.actors[key]
        payload = {
            "participant": actor.participant,
            "kind": "player",
            "name": actor.name,
            "team": actor.team,
            "position": actor.position,
        }
        game.live.record(game.session, NewEvent(PARTICIPANT_JOINED, payload, (actor.team,), actor=actor.participant))
    game.do("control", "clock", action="start")
    game.advance(20)
    game.do("control", "clock", action="speed", speed=2)
    game.advance(10)
    game.do("control", "clock", action="pause")
    game.advance(30)
    game.do("control", "clock", action="resume")
    game.do("control", "hold_inject", inject="tanker")
    game.do("control", "unhold_inject", inject="tanker")
    game.do("control", "move_inject", inject="jamming", at="+00:20")
    game.do("control", "skip_inject", inject="tanker")
    game.do("control", "write_inject", to="all", title="Flash: tanker adrift", body="A *tanker* drifts.", ack=True)
    game.do("control", "write_inject", to=["iran"], title="Later", at="+00:15", client_id="w-2")
    game.do("control", "spoof", channel="oman-line", as_team="us", as_position="j3", name="Alice", text="Stand down.")
    game.do("control", "spoof", channel="team", as_team="iran", text="Orders changed.")
    game.do("control", "escalate", delta=2, reason="Boats closing")
    game.do("control", "send_message", channel="team", team="us", text="Control here.", client_id="c-1")
    game.do("control", "send_message", channel="team", team="us", text="Control here.", client_id="c-1")
    game.advance(300)
    game.do("us", "decide", inject="options", option="strike", rationale="Now.")
    game.advance(200)  # retaliation (5 minutes of exercise time at 2x) jams the bridge
    game.do("iran", "send_message", channel="bridge", text="Anyone there?")
    game.advance(400)  # the jam clears
    game.do("iran", "send_message", channel="bridge", text="Anyone there now?", client_id="b-1")
    sent = game.do("us", "send_message", channel="oman-line", text="Hold fire at 26.5 N 56.2 E.").seq
    game.do("oman", "relay", message=sent, action="edit", text="Hold fire at 26.5 N 56.2 E.")
    game.do("control", "note", text="Unchanged edit above.")
    game.do("control", "clock", action="end")
    game.do("control", "note", text="After the end.")
    game.do("oman", "feedback", strengths="", improvements="More time.", channels={})
    return game


def _write(name: str, game: Game) -> None:
    row = game.store.get_session(game.session)
    assert row is not None
    events = game.store.events_after(game.session, 0)
    log = {
        "session": game.session,
        "title": row.title,
        "script": row.script,
        "events": [
            {
                "seq": e.seq,
                "type": e.type,
                "payload": e.as_dict()["payload"],
                "audience": list(e.audience),
                "t": e.t,
                "wall": e.wall,
                "actor": e.actor,
                "client_id": e.client_id,
            }
            for e in events
        ],
    }
    LOGS.mkdir(parents=True, exist_ok=True)
    (LOGS / f"{name}.log.json").write_text(json.dumps(log, ensure_ascii=False, indent=1) + "\n")
    state = game.live.state(game.session)
    (LOGS / f"{name}.state.json").write_text(json.dumps(state_projection(state), indent=1) + "\n")
    report = report_projection(game.session, row.title, row.script, events)
    (LOGS / f"{name}.report.json").write_text(json.dumps(report, ensure_ascii=False, indent=1) + "\n")
    print(f"{name}: {len(events)} events")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        for sub in ("a", "b"):
            (Path(tmp) / sub).mkdir()
        _write("report-game", play(Path(tmp) / "a"))
        _write("control-game", _control_game(Path(tmp) / "b"))
        root = Path(__file__).resolve().parent.parent
        game = rehearse(root / "exercises" / "global-hawk-2019.yaml", players=2, seed=7, url=f"sqlite:///{tmp}/r.db")
        _write("global-hawk-rehearsal", Game(game.store, game.live, game.time, game.session, {}))


if __name__ == "__main__":
    sys.exit(main())
