"""The chat messages an AI seat's model is sent: its seat, its brief, what it has seen, what it may do."""

from __future__ import annotations

from .schema import focus
from .view import SeatView

BRIEF = 400  # characters of the team brief the model is shown (the prompt is read on every call)


HOW = {
    "forward": '"forward" passes it on as written',
    "edit": '"edit" passes on your "text" instead',
    "hold": '"hold" keeps it for now',
    "decline": '"decline" refuses it',
}


def messages(view: SeatView, seat_name: str, relay_actions: tuple[str, ...] = tuple(HOW)) -> list[dict[str, str]]:
    """System and user messages for one turn (small: the prompt is evaluated on every call)."""
    teams = ", ".join(f"{name} ({ident})" for ident, name in view.teams.items())
    system = (
        f"You play {view.title} of {view.team_name} in a tabletop crisis exercise (a rehearsal, not a prediction). "
        f"Teams: {teams}. Your name in the game is {seat_name}. "
        "Act as a careful professional in your role: short, clear, calm messages. "
        "Answer only with JSON that fits the given schema.\n"
        f"Your team's brief:\n{view.brief[:BRIEF]}"
    )
    lines = [f"Exercise clock: {view.clock}.", "What you have seen lately:"]
    lines += [f"- {line}" for line in view.recent] or ["- nothing yet"]
    kind = focus(view)
    if kind == "relay":
        names = ", ".join(f"{r[1]} ({r[0]})" for r in view.relays)
        lines.append(f"You are the intermediary on {names}. These messages wait for you:")
        for w in view.waiting:
            extra = f" Sender's instructions for you: {w.instructions}" if w.instructions else ""
            state = " (you hold it)" if w.held else ""
            sender = view.teams.get(w.from_team, w.from_team)
            lines.append(f"- message {w.message} from {sender}{state}: {w.text}{extra}")
        choices = "; ".join(HOW[a] for a in relay_actions if a in HOW)
        lines.append(
            f'For each, answer {{"do": "relay", "message": ID, "action": ...}}: {choices}. '
            'You may also write a note to one side: {"do": "note", "channel": ID, "to": TEAM, "text": ...}.'
        )
    elif kind == "duty":
        for inject, title in view.acks:
            answer = f'{{"do": "ack", "inject": "{inject}"}}'
            lines.append(f'- inject {inject} "{title}" asks your acknowledgement: {answer}')
        for d in view.decisions:
            options = "; ".join(f"{o} = {label}" for o, label in d.options)
            lines.append(f'- decision {d.inject}: {d.prompt} Options: {options}. Answer {{"do": "decide", ...}}')
    else:
        channels = ", ".join(f"{name} ({ident})" for ident, name, _kind in view.channels)
        lines.append(f"You may write on: {channels}. Reply if a message needs an answer, else wait.")
    return [{"role": "system", "content": system}, {"role": "user", "content": "\n".join(lines)}]
