"""AI seats (issue 15): what the model is shown and may answer, and a seat played through the same
commands and rules as a person, against a small OpenAI-compatible peer (canned, garbage, dead, slow)."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from tabletop.ai import AIConfig, Seats, action_schema, seat_view, validate
from tabletop.ai.client import ChatClient, ModelError
from tabletop.ai.runner import ModelBrain
from tabletop.ai.schema import Invalid
from tabletop.engine import events as ev

from .ai_helpers import chat_reply, fake_endpoint, free_port
from .engine_helpers import DATA, make_game

LINE = "Request you keep your boats beyond 1,000 yards."


def game_on_the_line(tmp_path):
    game = make_game(tmp_path, DATA / "relay.yaml")
    game.do("control", "clock", action="start")
    return game


def seats_for(game, url: str = "http://127.0.0.1:9/v1", **limits: Any) -> tuple[Seats, list[str]]:
    told: list[str] = []
    config = AIConfig(base_url=url, model="test-model", timeout=limits.pop("timeout", 5.0), **limits)
    seats = Seats(game.live, config, tell=lambda session, text: told.append(text))
    seats.start_threads = False
    return seats, told


def relayed(game) -> list[ev.MessageRelayed]:
    return [e.payload for e in game.store.events_after(game.session) if e.type == ev.MESSAGE_RELAYED]


# ------------------------------------------------------------------ what the model sees and may say
def test_the_view_is_the_seats_redacted_view_and_the_schema_names_only_real_things(tmp_path):
    game = game_on_the_line(tmp_path)
    sent = game.do("us", "send_message", channel="oman-line", text=LINE, instructions="Only if calm")
    game.do("us", "send_message", channel="team", text="US team chat: never shown to Oman")
    state = game.state
    view = seat_view(state, game.actors["oman"], game.store.events_after(game.session), 60.0)
    assert [w.message for w in view.waiting] == [sent.seq]
    assert view.waiting[0].instructions == "Only if calm"
    assert not any("never shown" in line for line in view.recent)  # the U.S. team chat is not Oman's to see
    schema = action_schema(view, ("forward", "edit"))
    text = json.dumps(schema)
    assert f"[{sent.seq}]" in text and '"forward", "edit"' in text and "decline" not in text
    assert validate(
        json.dumps({"actions": [{"do": "relay", "message": sent.seq, "action": "forward", "text": ""}]}), view
    ) == [("relay", {"message": sent.seq, "action": "forward"})]
    edited = {"actions": [{"do": "relay", "message": sent.seq, "action": "edit", "text": "Calm, please."}]}
    assert validate(edited, view)[0][1]["text"] == "Calm, please."
    for garbage in ("", "Sure! I will forward it.", "[1, 2]", '{"actions": [{"do": "launch"}]}',
                    json.dumps({"actions": [{"do": "relay", "message": 999, "action": "forward"}]}),
                    json.dumps({"actions": [{"do": "relay", "message": sent.seq, "action": "decline"}]})):  # fmt: skip
        with pytest.raises(Invalid):
            validate(garbage, view, ("forward", "edit"))


# ------------------------------------------------------------------ a scripted bot seat
def test_a_scripted_bot_relays_through_the_rules_and_is_labelled(tmp_path):
    game = game_on_the_line(tmp_path)
    seats, _told = seats_for(game)
    runner = seats.add(game.session, "oman", "omani-liaison", kind="bot")
    joined = game.state.participants[runner.actor.participant]
    assert joined.ai == ev.AISeat(model="scripted bot", told=True) and "bot" in joined.name
    sent = game.do("us", "send_message", channel="oman-line", text=LINE)
    assert runner.step()
    assert [(r.message, r.action, r.by) for r in relayed(game)] == [(sent.seq, "forward", joined.name)]
    assert any(v["type"] == ev.MESSAGE_DELIVERED and v["payload"]["text"] == LINE for v in game.seen_by("iran"))
    assert not runner.step()  # nothing new: no turn


# ------------------------------------------------------------------ a model seat, against a peer
def test_a_model_seat_acts_through_the_same_commands_labelled_with_the_model(tmp_path):
    game = game_on_the_line(tmp_path)
    sent = game.do("us", "send_message", channel="oman-line", text=LINE)
    edit = {"do": "relay", "message": sent.seq, "action": "edit", "text": "Oman passes on: " + LINE}
    answer = {"actions": [edit, {"do": "note", "channel": "oman-line", "to": "us", "text": "Passed on, softened."}]}
    with fake_endpoint(lambda body: (200, chat_reply(json.dumps(answer)))) as (url, requests):
        seats, told = seats_for(game, url)
        runner = seats.add(game.session, "oman", "omani-liaison")
        assert runner.step()
    assert told == []
    name = runner.actor.name
    assert "test-model" in name and "AI" in name
    assert [(r.action, r.by) for r in relayed(game)] == [("edit", name)]
    notes = [e.payload for e in game.store.events_after(game.session) if e.type == ev.RELAY_NOTE]
    assert [(n.to, n.by) for n in notes] == [("us", name)]
    body = requests[0]
    assert body["model"] == "test-model" and body["response_format"]["type"] == "json_schema"
    assert LINE in body["messages"][1]["content"]
    assert runner.stats.tokens == 50 and seats.budget(game.session).spent == 50


def test_players_may_not_be_told(tmp_path):
    game = game_on_the_line(tmp_path)
    seats, _ = seats_for(game)
    runner = seats.add(game.session, "oman", "omani-liaison", kind="bot", told=False, name="Salim")
    assert runner.actor.name == "Salim"
    joined = [v for v in game.seen_by("control") if v["type"] == ev.PARTICIPANT_JOINED][-1]
    assert joined["payload"]["ai"] == {"model": "scripted bot", "told": False}  # control and the log know
    oman = game.live.current(game.session)
    from tabletop.engine.events import redact

    event = game.store.events_after(game.session)[-1]
    seen = redact(event, game.actors["oman"].viewer, oman.exercise)
    assert seen is not None and "ai" not in seen["payload"]


def test_garbage_is_retried_once_then_dropped_with_a_log_entry(tmp_path):
    game = game_on_the_line(tmp_path)
    game.do("us", "send_message", channel="oman-line", text=LINE)
    with fake_endpoint(lambda body: (200, chat_reply("I think we should definitely forward it!"))) as (url, requests):
        seats, told = seats_for(game, url)
        runner = seats.add(game.session, "oman", "omani-liaison")
        assert runner.step()
    assert len(requests) == 2  # asked again once, with the reason
    assert "invalid" in requests[1]["messages"][-1]["content"]
    assert runner.stats.dropped == 1 and relayed(game) == []
    assert told and "invalid" in told[0] and "test-model" in told[0]
    assert runner.stats.tokens == 100
    game.do("us", "send_message", channel="oman-line", text="Still here.")  # the game goes on


def test_a_dead_or_slow_endpoint_leaves_the_game_running_and_tells_the_facilitator(tmp_path):
    game = game_on_the_line(tmp_path)
    seats, told = seats_for(game, f"http://127.0.0.1:{free_port()}/v1")  # nobody listens
    runner = seats.add(game.session, "oman", "omani-liaison")
    game.do("us", "send_message", channel="oman-line", text=LINE)
    assert runner.step()
    assert runner.stats.failures == 1 and "could not be reached" in told[0]

    def slow(body):
        time.sleep(3)
        return 200, chat_reply("{}")

    with fake_endpoint(slow) as (url, _requests):
        seats, told = seats_for(game, url, timeout=0.5)
        seats.start_threads = True
        runner = seats.add(game.session, "oman", "omani-liaison")
        started = time.monotonic()
        game.do("us", "send_message", channel="oman-line", text="Second message.")
        seats.wake(game.session)
        # The player's command never waits for the model: the seat thinks in its own thread.
        game.do("us", "send_message", channel="oman-line", text="Third message.")
        assert time.monotonic() - started < 0.5
        deadline = time.monotonic() + 5
        while not told and time.monotonic() < deadline:
            time.sleep(0.05)
        seats.close()
    assert told and ("timed out" in told[0] or "could not be reached" in told[0])
    assert runner.status == "running"  # it tries again at the next event


def test_the_endpoint_form_falls_back_for_llama_cpp_python(tmp_path):
    def picky(body):
        if body["response_format"]["type"] != "json_object":
            return 422, {"detail": "response_format: type must be text or json_object"}
        return 200, chat_reply('{"actions": []}')

    with fake_endpoint(picky) as (url, requests):
        client = ChatClient(AIConfig(base_url=url, model="m"))
        reply = client.chat([{"role": "user", "content": "hi"}], {"type": "object"})
        assert reply.text == '{"actions": []}' and client.schema_form == "json_object"
        assert requests[1]["response_format"] == {"type": "json_object", "schema": {"type": "object"}}
    with pytest.raises(ValueError):
        ChatClient(AIConfig(base_url="file:///etc/passwd", model="m"))


def test_redirects_to_another_host_are_not_followed(tmp_path):
    with fake_endpoint(lambda body: (302, "")) as (url, _), pytest.raises(ModelError, match="HTTP 302"):
        ChatClient(AIConfig(base_url=url, model="m")).chat([], {"type": "object"})


def test_token_budgets_stop_a_seat_and_say_so(tmp_path):
    game = game_on_the_line(tmp_path)
    with fake_endpoint(lambda body: (200, chat_reply('{"actions": [{"do": "wait"}]}', tokens=400))) as (url, _):
        seats, told = seats_for(game, url, seat_tokens=300)
        runner = seats.add(game.session, "oman", "omani-liaison")
        game.do("us", "send_message", channel="oman-line", text=LINE)
        runner.brain = ModelBrain(seats.config)
        runner.step()  # spends 400 (the first call may pass the budget; none follows)
        game.do("us", "send_message", channel="oman-line", text="Again")
        assert not runner.step()
    assert runner.status == "out_of_tokens" and any("token budget" in t for t in told)


def test_a_paused_seat_does_nothing_and_a_resumed_one_catches_up(tmp_path):
    game = game_on_the_line(tmp_path)
    seats, _ = seats_for(game)
    runner = seats.add(game.session, "oman", "omani-liaison", kind="bot")
    seats.set_status(game.session, runner.actor.participant, "pause")
    game.do("us", "send_message", channel="oman-line", text=LINE)
    assert not runner.step() and relayed(game) == []
    seats.set_status(game.session, runner.actor.participant, "resume")
    assert runner.step() and len(relayed(game)) == 1


# ------------------------------------------------------------------ the report
def test_the_report_names_the_ai_seats_and_says_they_are_not_predictions(tmp_path):
    from tabletop import ROOT
    from tabletop.report.data.compose import build_report
    from tabletop.report.render import environment

    game = game_on_the_line(tmp_path)
    seats, _ = seats_for(game)
    runner = seats.add(game.session, "oman", "omani-liaison", kind="bot")
    game.do("us", "send_message", channel="oman-line", text=LINE)
    runner.step()
    game.do("control", "note", text="AI seats: a made-up trouble")  # not by the "AI seats" author: not counted
    data = build_report(game.state.exercise, game.store.events_after(game.session), session_id=game.session)
    ai = data.extras["ai_seats"]
    assert [(s.name, s.model, s.told, s.actions) for s in ai.seats] == [
        (runner.actor.name, "scripted bot", True, (("relay actions", 1),))
    ]
    assert '{% include "report/_ai_seats.html" %}' in (ROOT / "templates/report/main.html").read_text()
    html = environment().get_template("report/_ai_seats.html").render(r=data)
    assert "Method: seats played by software" in html
    assert "AI seats are for rehearsal and staffing, not prediction" in html
    assert "Omani liaison (bot: scripted bot)" in html


def test_a_report_without_ai_seats_has_no_such_section(tmp_path):
    from tabletop.report.data.compose import build_report

    game = game_on_the_line(tmp_path)
    data = build_report(game.state.exercise, game.store.events_after(game.session), session_id=game.session)
    assert "ai_seats" not in data.extras


# ------------------------------------------------------------------ duties and replies
def test_an_ai_player_acknowledges_decides_and_replies_within_the_rules(tmp_path):
    game = make_game(tmp_path, DATA / "minimal.yaml")
    game.do("control", "clock", action="start")
    game.advance(11 * 60)  # the shootdown (to acknowledge) and the options (j3 decides) are out

    def answer(body):
        """Take what the schema offers: acknowledge and decide, or reply on the first channel."""
        items = body["response_format"]["json_schema"]["schema"]["properties"]["actions"]["items"]
        variants = {v["properties"]["do"]["const"]: v["properties"] for v in items.get("anyOf", [items])}
        if "ack" in variants:
            decide = variants["decide"]
            actions = [
                {"do": "ack", "inject": variants["ack"]["inject"]["enum"][0]},
                {"do": "decide", "inject": decide["inject"]["enum"][0], "option": "warn", "rationale": "Calm."},
            ]
        else:
            actions = [{"do": "send", "channel": "bridge", "text": "Understood. Keep clear of our ships."}]
        return 200, chat_reply(json.dumps({"actions": actions}))

    with fake_endpoint(answer) as (url, requests):
        seats, told = seats_for(game, url)
        runner = seats.add(game.session, "us", "j3")
        assert runner.talk  # not an intermediary's seat: it answers messages too
        assert runner.step()
        kinds = [e.type for e in game.store.events_after(game.session) if e.actor == runner.actor.participant]
        assert ev.INJECT_ACKNOWLEDGED in kinds and ev.DECISION_MADE in kinds
        game.do("iran", "send_message", channel="bridge", text="Your ships are in our waters.")
        assert runner.step()
        assert not runner.step()  # its own reply sets off nothing
    replies = [
        e.payload
        for e in game.store.events_after(game.session)
        if e.type == ev.MESSAGE and e.actor == runner.actor.participant
    ]
    assert [r.channel for r in replies] == ["bridge"] and "AI: test-model" in replies[0].name
    assert told == [] and runner.stats.refused == 0 and len(requests) == 2


def test_after_a_restart_the_logs_ai_seats_come_back_paused(tmp_path):
    game = game_on_the_line(tmp_path)
    seats, _ = seats_for(game)
    bot = seats.add(game.session, "oman", "omani-liaison", kind="bot")
    again, _ = seats_for(game)  # a new process: nothing plays the seat
    [adopted] = again.adopt(game.session)
    assert (adopted.actor, adopted.status, adopted.brain.label) == (bot.actor, "paused", "scripted bot")
    assert again.adopt(game.session) == []
    game.do("us", "send_message", channel="oman-line", text=LINE)
    again.set_status(game.session, bot.actor.participant, "resume")
    assert adopted.step() and len(relayed(game)) == 1


def test_a_failed_turn_is_tried_again_while_its_work_waits(tmp_path):
    game = game_on_the_line(tmp_path)
    answers = iter(["not JSON", "still not JSON"])

    def answer(body):
        items = body["response_format"]["json_schema"]["schema"]["properties"]["actions"]["items"]
        relay = next(v for v in items.get("anyOf", [items]) if v["properties"]["do"]["const"] == "relay")
        good = {"actions": [{"do": "relay", "message": relay["properties"]["message"]["enum"][0], "action": "forward"}]}
        return 200, chat_reply(next(answers, json.dumps(good)))

    with fake_endpoint(answer) as (url, _requests):
        seats, _told = seats_for(game, url)
        runner = seats.add(game.session, "oman", "omani-liaison")
        game.do("us", "send_message", channel="oman-line", text=LINE)
        assert runner.step() and runner.stats.dropped == 1 and runner.retry_at is not None
        assert not runner.step()  # nothing new, and not yet time
        runner.retry_at = time.monotonic()  # the back-off has passed
        assert runner.step() and len(relayed(game)) == 1 and runner.retry_at is None


def test_a_raw_newline_in_a_text_is_not_a_reason_to_drop_the_answer(tmp_path):
    game = game_on_the_line(tmp_path)
    sent = game.do("us", "send_message", channel="oman-line", text=LINE)
    view = seat_view(game.state, game.actors["oman"], game.store.events_after(game.session), 60.0)
    # As a small model writes it: a control character (a newline) raw inside the JSON string.
    edit = '{"do": "relay", "message": SEQ, "action": "edit", "text": "Calm,\nplease."}'.replace("SEQ", str(sent.seq))
    raw = '{"actions": [' + edit + "]}"
    assert validate(raw, view) == [("relay", {"message": sent.seq, "action": "edit", "text": "Calm,\nplease."})]
