"""A short real game on tests/data/minimal.yaml, played through Live, for the report tests."""

from __future__ import annotations

import subprocess
import unicodedata
from pathlib import Path

from tabletop.engine import NewEvent
from tabletop.engine.events import PARTICIPANT_JOINED

from .engine_helpers import Game, make_game

PERSIAN = "پیام شما دریافت شد و قایق‌ها عقب می‌کشند"
ARABIC = "تم استلام الرسالة"
SCRIPT = "<script>alert(1)</script> keep calm"
IMG_FILE = '<img src="file:///etc/passwd"> look'
IMG_HTTP = '<img src="http://127.0.0.1:9/track.png"> and this'
ORIGINAL = "We will strike the boats at dawn unless they withdraw."
EDITED = "Washington asks that the boats withdraw before dawn."
HELD = "Our ships hold course and speed."
DECLINED = "Your threats mean nothing."
RATIONALE = "Deter further shootdowns without hitting the mainland."
HOTWASH = "The read-back on the Oman line saved us from a misunderstanding."


def play(tmp_path: Path, url: str | None = None) -> Game:
    """Acks, every kind of message, every relay action, a decision, notes, ratings, hotwash, a plan."""
    game = make_game(tmp_path, url=url)
    for key in ("us", "us2", "iran", "oman"):  # the joins, recorded as the API records them
        actor = game.actors[key]
        payload = {
            "participant": actor.participant,
            "kind": "player",
            "name": actor.name,
            "team": actor.team,
            "position": actor.position,
        }
        game.live.record(game.session, NewEvent(PARTICIPANT_JOINED, payload, (actor.team,), actor=actor.participant))
    observer = game.actors["observer"]
    payload = {"participant": observer.participant, "kind": "observer", "name": "Eve", "teams": ["us", "iran"]}
    game.live.record(game.session, NewEvent(PARTICIPANT_JOINED, payload, (), actor=observer.participant))
    game.do("control", "clock", action="start")
    game.advance(30)
    game.do("us", "ack_inject", inject="shootdown")
    game.advance(15)
    game.do("iran", "ack_inject", inject="shootdown")
    game.do("us", "send_message", channel="team", text="Who saw the drone go down?")
    game.do("iran", "send_message", channel="team", text=PERSIAN)
    game.advance(60)
    first = game.do("us", "send_message", channel="oman-line", text=ORIGINAL).seq
    game.advance(90)
    game.do("oman", "relay", message=first, action="edit", text=EDITED)
    game.advance(30)
    reply = game.do("iran", "send_message", channel="oman-line", text="Received. Our boats are pulling back.").seq
    game.advance(20)
    game.do("oman", "relay", message=reply, action="forward")
    held = game.do("us", "send_message", channel="oman-line", text=HELD).seq
    game.do("oman", "relay", message=held, action="hold")
    game.advance(120)
    game.do("oman", "relay", message=held, action="forward")
    declined = game.do("iran", "send_message", channel="oman-line", text=DECLINED).seq
    game.advance(10)
    game.do("oman", "relay", message=declined, action="decline")
    game.do("us", "send_message", channel="public", text=SCRIPT)
    game.do("iran", "send_message", channel="bridge", text=IMG_FILE)
    game.do("oman", "send_message", channel="public", text=ARABIC)
    game.do("us2", "send_message", channel="team", text=IMG_HTTP)
    game.do("us2", "send_message", channel="team", text='=HYPERLINK("http://127.0.0.1:9")')
    game.do("control", "note", text="US team hesitant to use the line.")
    game.advance(600 - 30 - 15 - 60 - 90 - 30 - 20 - 120 - 10 + 60)  # past +00:10: the decision is open
    game.do("us", "decide", inject="options", option="strike", rationale=RATIONALE)
    game.do("observer", "observe", objective="obj-contact", rating="S", text="Contact made, the wording changed.")
    game.do("control", "observe", objective="obj-contact", rating="M", text="Slow first message on the line.")
    game.advance(400)
    game.do("control", "clock", action="end")
    game.do("us", "feedback", strengths=HOTWASH, improvements="Name a duty officer.", channels={"oman-line": 4})
    game.do("iran", "feedback", strengths=PERSIAN, improvements="Faster answers.", channels={"bridge": 2})
    game.do(
        "control",
        "improvement_plan",
        items=[
            {
                "issue": "Late first message",
                "action": "Drill the first call",
                "organisation": "CENTCOM J3",
                "due": "2020-06-30",
                "objective": "obj-contact",
            }
        ],
    )
    return game


def pdf_text(path: Path) -> str:
    return subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def squeeze(text: str) -> str:
    """Compare text read back from a PDF: presentation forms folded, spaces and joiners dropped."""
    folded = unicodedata.normalize("NFKC", text)
    return "".join(
        ch
        for ch in folded
        if not ch.isspace() and ch not in "\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u2066\u2067\u2068\u2069"
    )
