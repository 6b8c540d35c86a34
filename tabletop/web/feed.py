"""What each viewer is sent of a session's events: live and by `sync`, through one function.

- `view(event, viewer, exercise)` is THE function: the event as this viewer may see it (the engine's
  `redact`), then as sent to browsers (`present`: `body_html`). Live publishing (runtime.publish) and
  `sync` both call it, so a live event and the same event from `sync` are equal, key for key (the
  live envelope adds `session`).
- A view depends on who looks only through the viewer's *class* (kind, team, position, teams) and,
  for events *personal* to a participant (it caused them, or they name it as `participant`), on
  the participant too. So the views of a class are shared by everyone in it, and each participant's
  personal events are viewed for it alone: live, they go to its own room (`personal_targets`);
  in `sync` they are viewed again for the caller.
- `Feed.page` answers `sync` a page at a time from blocks of BLOCK sequence numbers. A block whose
  last seq is stored never changes (the log is append-only), so its events, and each class's views
  of them, are cached (a bounded LRU): many clients syncing the same log cost one redaction.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tabletop.engine import Actor, Event, Viewer, redact
from tabletop.engine import events as ev
from tabletop.script.models import Exercise
from tabletop.text import markdown_html

BLOCK = 128  # sequence numbers a cached block holds
PAGE = 500  # events a `sync` page holds unless the client asks for fewer
MAX_PAGE = 1000
MAX_SEQ = 2**31 - 1  # the largest sequence number a store can hold (PostgreSQL's integer)

View = dict[str, Any]
ViewOf = Callable[[Event, Viewer, Exercise], "View | None"]


def present(view: View | None) -> View | None:
    """An event view as sent to browsers: author Markdown also as safe HTML (`body_html`)."""
    if view is not None and view["type"] in (ev.INJECT_RELEASED,):
        view["payload"] = {**view["payload"], "body_html": markdown_html(view["payload"].get("body", ""))}
    return view


def view(event: Event, viewer: Viewer, exercise: Exercise) -> View | None:
    """What `viewer` is sent of `event`, live and in `sync` alike (None: nothing)."""
    return present(redact(event, viewer, exercise))


def class_of(viewer: Viewer) -> Viewer:
    """The viewer without its participant: what everyone of its kind, team, position and teams shares."""
    if viewer.participant is None:
        return viewer
    # Not dataclasses.replace: it costs more than the redaction it serves (publishing calls this per event).
    return Viewer(kind=viewer.kind, team=viewer.team, teams=viewer.teams, position=viewer.position)


def personal_to(event: Event) -> set[int]:
    """The participants whose view of this event may differ from their class's: who caused it, and
    who it names as `participant` (a message's sender, a decision's maker, an observation's author)."""
    found = event.payload_json.get("participant")
    people = {found} if isinstance(found, int) and not isinstance(found, bool) else set()
    if event.actor is not None:
        people.add(event.actor)
    return people


def viewer_of(joined: ev.ParticipantJoined) -> Viewer:
    """The viewer of a seated participant, from its `participant_joined`: the engine's actor for it, as
    `sync` makes it from the participant's token (auth.actor_for), so both views are of the same viewer."""
    if joined.kind == "observer":
        return Actor("observer", joined.participant, joined.name, teams=frozenset(joined.teams or ())).viewer
    return Actor("player", joined.participant, joined.name, joined.team, joined.position).viewer


# ------------------------------------------------------------------ sync pages
@dataclass(frozen=True)
class Page:
    events: list[View]
    through: int  # every event with seq <= through was considered: the next page's `after`
    more: bool


class Feed:
    """Pages of a session's events per viewer, from cached immutable blocks."""

    def __init__(self, events_between: Callable[[str, int, int], list[Event]], max_blocks: int = 256) -> None:
        self.events_between = events_between  # (session, after, through) -> stored events, in order
        self.max_blocks = max_blocks
        self._raw: OrderedDict[tuple[str, int], list[Event]] = OrderedDict()
        self._views: OrderedDict[tuple[str, Viewer, int], list[tuple[Event, View | None]]] = OrderedDict()
        self._lock = threading.Lock()

    def page(self, session_id: str, viewer: Viewer, exercise: Exercise, after: int, last_seq: int, limit: int) -> Page:
        """Up to `limit` events with seq > after this viewer may see, among those up to `last_seq`."""
        klass = class_of(viewer)
        me = viewer.participant
        out: list[View] = []
        cursor = after
        while cursor < last_seq and len(out) < limit:
            number = cursor // BLOCK
            end = min((number + 1) * BLOCK, last_seq)
            views = self._block_views(session_id, klass, exercise, number, last_seq)
            for event, shared in views:
                if event.seq <= cursor:
                    continue
                if event.seq > end:
                    break
                seen = view(event, viewer, exercise) if me is not None and me in personal_to(event) else shared
                if seen is not None:
                    out.append(seen)
                cursor = event.seq
                if len(out) >= limit:
                    break
            else:
                cursor = end
        return Page(out, cursor, cursor < last_seq)

    def _block_views(
        self, session_id: str, klass: Viewer, exercise: Exercise, number: int, last_seq: int
    ) -> list[tuple[Event, View | None]]:
        first, last = number * BLOCK, (number + 1) * BLOCK
        complete = last <= last_seq
        key = (session_id, klass, number)
        if complete:
            with self._lock:
                found = self._views.get(key)
                if found is not None:
                    self._views.move_to_end(key)
                    return found
        events = self._block_events(session_id, number, first, min(last, last_seq), complete)
        views = [(e, view(e, klass, exercise)) for e in events]
        if complete:
            with self._lock:
                self._views[key] = views
                while len(self._views) > self.max_blocks:
                    self._views.popitem(last=False)
        return views

    def _block_events(self, session_id: str, number: int, first: int, through: int, complete: bool) -> list[Event]:
        key = (session_id, number)
        if complete:
            with self._lock:
                found = self._raw.get(key)
                if found is not None:
                    self._raw.move_to_end(key)
                    return found
        events = self.events_between(session_id, first, through)
        if complete:
            with self._lock:
                self._raw[key] = events
                while len(self._raw) > self.max_blocks // 4:
                    self._raw.popitem(last=False)
        return events


# ------------------------------------------------------------------ live: personal views
def personal_targets(
    event: Event, participants: dict[int, ev.ParticipantJoined], exercise: Exercise, view_of: ViewOf | None = None
) -> list[tuple[int, View]]:
    """The participants whose own view of this event differs from their class's, with that view:
    publishing sends it to the participant's own room, first, and leaves the participant out of
    its class's emit. `view_of` is `view` (the default) or a memo of it."""
    look = view_of or view
    found = []
    for participant in personal_to(event):
        joined = participants.get(participant)
        if joined is None:
            continue
        viewer = viewer_of(joined)
        own = look(event, viewer, exercise)
        if own is not None and own != look(event, class_of(viewer), exercise):
            found.append((participant, own))
    return found


def feed() -> Feed:
    """This app's feed (made on first use), reading the app's store."""
    from flask import current_app

    found = current_app.extensions.get("tabletop.feed")
    if found is None:
        store = current_app.extensions["tabletop"].store
        found = current_app.extensions["tabletop.feed"] = Feed(
            lambda session_id, after, through: store.events_after(session_id, after, limit=through - after)
        )
    return found
