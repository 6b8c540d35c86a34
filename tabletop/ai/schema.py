"""The JSON schema of the actions an AI seat may take now, and the check of what the model answered.

The schema is made for each turn from the seat's view: message ids, channels, injects and options
are enumerated, so a server that constrains its output to the schema (llama.cpp's grammar, vLLM's
guided decoding, Ollama's `format`) can only answer with actions that name real things. A turn is
about one kind of work (`focus`): messages waiting to be relayed first, then injects to acknowledge
and decisions, then conversation. `validate` turns the answer into the very commands a person's
page sends (`send_message`, `relay`, `write_relay_note`, `ack_inject`, `decide`); the engine's rules
then judge them as they judge anyone's.
"""

from __future__ import annotations

import json
import re
from typing import Any

from .view import SeatView

MAX_ACTIONS = 3
MAX_TEXT = 400  # characters of text an action may carry (what validate keeps)
MODEL_TEXT = 100  # characters of text the schema lets the model write: short answers come back sooner
RELAY_ACTIONS = ("forward", "edit", "hold", "decline")
Command = tuple[str, dict[str, Any]]


class Invalid(ValueError):
    """The model's answer is not a valid set of actions (said in words, for the log and the retry)."""


def focus(view: SeatView) -> str:
    """What this turn is about: `relay`, `duty` (acknowledge, decide) or `talk`."""
    if view.waiting:
        return "relay"
    if view.acks or view.decisions:
        return "duty"
    return "talk"


def _text(min_length: int = 1) -> dict[str, Any]:
    return {"type": "string", "minLength": min_length, "maxLength": MODEL_TEXT}


def action_schema(view: SeatView, relay_actions: tuple[str, ...] = RELAY_ACTIONS) -> dict[str, Any]:
    """The JSON schema of this turn's answer: `{"actions": [...]}`, each action one of the variants open now."""
    variants: list[dict[str, Any]] = []
    kind = focus(view)

    def variant(name: str, properties: dict[str, Any], required: tuple[str, ...]) -> None:
        variants.append(
            {
                "type": "object",
                "properties": {"do": {"const": name}, **properties},
                "required": ["do", *required],
                "additionalProperties": False,
            }
        )

    if kind == "relay":
        variant(
            "relay",
            {
                "message": {"enum": [w.message for w in view.waiting]},
                "action": {"enum": list(relay_actions)},
                "text": _text(0),
            },
            ("message", "action"),
        )
        sides = sorted({m for _id, _name, members in view.relays for m in members})
        variant(
            "note",
            {"channel": {"enum": [r[0] for r in view.relays]}, "to": {"enum": sides}, "text": _text()},
            ("channel", "to", "text"),
        )
    elif kind == "duty":
        if view.acks:
            variant("ack", {"inject": {"enum": [a[0] for a in view.acks]}}, ("inject",))
        if view.decisions:
            options = sorted({o for d in view.decisions for o, _label in d.options})
            variant(
                "decide",
                {
                    "inject": {"enum": [d.inject for d in view.decisions]},
                    "option": {"enum": options},
                    "rationale": _text(0),
                },
                ("inject", "option", "rationale"),
            )
    else:
        variant("send", {"channel": {"enum": [c[0] for c in view.channels]}, "text": _text()}, ("channel", "text"))
        variant("wait", {}, ())
    return {
        "type": "object",
        "properties": {
            "actions": {
                "type": "array",
                "items": variants[0] if len(variants) == 1 else {"anyOf": variants},
                "minItems": 1,
                # A relay turn: a decision per waiting message and a note; a reply: one message.
                "maxItems": {"relay": min(MAX_ACTIONS, len(view.waiting) + 1), "talk": 1}.get(kind, MAX_ACTIONS),
            }
        },
        "required": ["actions"],
        "additionalProperties": False,
    }


_FENCE = re.compile(r"^\s*```(?:json)?\s*|\s*```\s*$")


def parse(raw: str) -> Any:
    """The JSON in the model's text (a Markdown fence around it is tolerated), or Invalid."""
    if not isinstance(raw, str) or not raw.strip():
        raise Invalid("the answer is empty")
    text = _FENCE.sub("", raw.strip())
    try:
        return json.loads(text, strict=False)  # raw control characters in a text: the commands strip them
    except (ValueError, RecursionError) as exc:
        raise Invalid(f"the answer is not JSON ({str(exc)[:80]})") from None


def validate(raw: str | Any, view: SeatView, relay_actions: tuple[str, ...] = RELAY_ACTIONS) -> list[Command]:
    """The commands the answer asks for, checked against this turn's view; Invalid says what is wrong."""
    data = parse(raw) if isinstance(raw, str) else raw
    if not isinstance(data, dict) or not isinstance(data.get("actions"), list):
        raise Invalid('the answer must be an object {"actions": [...]}')
    actions = data["actions"]
    if len(actions) > MAX_ACTIONS:
        raise Invalid(f"at most {MAX_ACTIONS} actions a turn ({len(actions)} given)")
    commands: list[Command] = []
    for n, action in enumerate(actions, 1):
        if not isinstance(action, dict) or not isinstance(action.get("do"), str):
            raise Invalid(f"action {n} is not an object with 'do'")
        commands += _command(n, action, view, relay_actions)
    if focus(view) == "relay" and not any(a.get("do") == "relay" for a in actions):
        raise Invalid("say what becomes of the waiting message: one 'relay' action at least")
    return commands


def _need_text(n: int, action: dict[str, Any], key: str = "text", empty: bool = False) -> str:
    text = action.get(key, "")
    if not isinstance(text, str) or (not empty and not text.strip()):
        raise Invalid(f"action {n} ({action['do']}) needs '{key}', a text")
    return text.strip()[:MAX_TEXT]


def _command(n: int, action: dict[str, Any], view: SeatView, relay_actions: tuple[str, ...]) -> list[Command]:
    do = action["do"]
    if do == "wait":
        return []
    if do == "relay":
        waiting = {w.message: w for w in view.waiting}
        message, how = action.get("message"), action.get("action")
        if message not in waiting:
            known = ", ".join(map(str, waiting))
            raise Invalid(f"action {n}: no message {message!r} is waiting to be relayed ({known})")
        if how not in relay_actions:
            raise Invalid(f"action {n}: 'action' is one of {', '.join(relay_actions)}, not {how!r}")
        if how == "hold" and waiting[message].held:
            return []  # held already: nothing to do
        if how == "edit":
            text = _need_text(n, action)
            if text == waiting[message].text:
                return [("relay", {"message": message, "action": "forward"})]
            return [("relay", {"message": message, "action": "edit", "text": text})]
        return [("relay", {"message": message, "action": how})]
    if do == "note":
        channel, to = action.get("channel"), action.get("to")
        relays = {r[0]: r[2] for r in view.relays}
        if channel not in relays or to not in relays[channel]:
            raise Invalid(f"action {n}: a note goes on a channel you relay, to one of its sides")
        return [("write_relay_note", {"channel": channel, "to": to, "text": _need_text(n, action)})]
    if do == "send":
        channel = action.get("channel")
        if channel not in {c[0] for c in view.channels}:
            raise Invalid(f"action {n}: you may not write on {channel!r}")
        return [("send_message", {"channel": channel, "text": _need_text(n, action)})]
    if do == "ack":
        inject = action.get("inject")
        if inject not in {a[0] for a in view.acks}:
            raise Invalid(f"action {n}: no inject {inject!r} waits for your acknowledgement")
        return [("ack_inject", {"inject": inject})]
    if do == "decide":
        decision = next((d for d in view.decisions if d.inject == action.get("inject")), None)
        if decision is None:
            raise Invalid(f"action {n}: no open decision {action.get('inject')!r}")
        option = action.get("option")
        if option not in {o for o, _label in decision.options}:
            raise Invalid(f"action {n}: {option!r} is not an option of {decision.inject}")
        rationale = _need_text(n, action, "rationale", empty=True)
        return [("decide", {"inject": decision.inject, "option": option, "rationale": rationale})]
    raise Invalid(f"action {n}: unknown action {do!r}")
