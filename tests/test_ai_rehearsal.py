"""AI seats in `exercise rehearse` (issue 15): the model plays the named seats, labelled, through
the rehearsal's own moments; when the endpoint fails the bot's answer stands and the game finishes."""

from __future__ import annotations

import json
import random

from tabletop.ai import AIConfig
from tabletop.ai.rehearsal import ai_players
from tabletop.engine import events as ev
from tabletop.rehearse import rehearse
from tabletop.rehearse_lines import ScriptPlayer
from tabletop.script import load_exercise

from .ai_helpers import chat_reply, fake_endpoint, free_port
from .engine_helpers import DATA


def constrained(body):
    """What a server constrained to the schema could answer."""
    props = body["response_format"]["json_schema"]["schema"]["properties"]
    if "action" in props:
        return 200, chat_reply(json.dumps({"action": "edit", "text": "Muscat passes on: calm, please."}))
    if "option" in props:
        return 200, chat_reply(json.dumps({"option": props["option"]["enum"][0], "rationale": "Least risk."}))
    return 200, chat_reply(json.dumps({"text": "Understood; we keep our distance."}))


def test_rehearse_hands_a_seat_to_the_model_labelled(tmp_path):
    script = DATA / "relay.yaml"
    exercise = load_exercise(script, library=DATA / "lib")
    with fake_endpoint(constrained) as (url, requests):
        config = AIConfig(base_url=url, model="peer-model")
        player_for = ai_players(exercise, ["oman"], config, ScriptPlayer(exercise, random.Random(0)))
        game = rehearse(script, library=DATA / "lib", player_for=player_for, exchanges=12)
    events = game.events()
    joined = [e.payload for e in events if e.type == ev.PARTICIPANT_JOINED and e.payload.ai is not None]
    assert [(p.team, p.ai.model) for p in joined] == [("oman", "peer-model")]
    oman = joined[0]
    relayed = [e.payload for e in events if e.type == ev.MESSAGE_RELAYED and e.actor == oman.participant]
    assert relayed and {r.action for r in relayed} == {"edit"} and all("AI: peer-model" in r.by for r in relayed)
    assert player_for.player.counts["answered"] == len(requests)  # type: ignore[attr-defined]


def test_a_dead_endpoint_leaves_the_rehearsal_to_the_bot(tmp_path):
    script = DATA / "relay.yaml"
    exercise = load_exercise(script, library=DATA / "lib")
    config = AIConfig(base_url=f"http://127.0.0.1:{free_port()}/v1", model="gone", timeout=1)
    player_for = ai_players(exercise, ["oman/omani-liaison"], config, ScriptPlayer(exercise, random.Random(0)))
    game = rehearse(script, library=DATA / "lib", player_for=player_for, exchanges=6)
    assert game.summary()["relayed"] > 0 and player_for.player.counts["failed"] > 0  # type: ignore[attr-defined]


def test_the_command_line_names_the_seats_the_model_plays(app, runner, tmp_path):
    app.config["INJECTS_DIR"] = str(DATA / "lib")
    args = ["exercise", "rehearse", str(DATA / "relay.yaml"), "--ai", "oman", "--no-report", "--exchanges", "6"]
    refused = runner.invoke(args=args)
    assert refused.exit_code == 1 and "needs AI_BASE_URL and AI_MODEL" in refused.output
    with fake_endpoint(constrained) as (url, _requests):
        app.config.update(AI_BASE_URL=url, AI_MODEL="peer-model")
        assert runner.invoke(args=[*args[:4], "nowhere", *args[5:]]).exit_code == 1  # an unknown seat
        played = runner.invoke(args=args)
    assert played.exit_code == 0, played.output
    assert "AI seats (oman, peer-model):" in played.output and " 0 failed" in played.output
