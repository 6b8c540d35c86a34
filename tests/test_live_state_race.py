"""A session's state is shown to other threads only once folded: `Live.current` reads the cache
without the lock, so a state put there before its events were folded was seen half-built (a join
racing the first command of a freshly loaded session read an empty state)."""

from __future__ import annotations

import threading
from typing import Any

from tabletop.live import Live


class SlowStore:
    """The game's store, whose first full read of the log waits until the test lets it go on."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self.reading = threading.Event()
        self.go_on = threading.Event()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    def events_after(self, session_id: str, seq: int = 0, limit: int | None = None) -> Any:
        if seq == 0 and not self.go_on.is_set():
            self.reading.set()
            assert self.go_on.wait(10)
        return self.store.events_after(session_id, seq, limit)


def test_a_state_being_loaded_is_never_seen_half_folded(new_game):
    game = new_game()
    game.do("control", "clock", action="start")
    game.do("us", "send_message", channel="team", text="before")
    last = game.store.last_seq(game.session)
    slow = SlowStore(game.store)
    fresh = Live(slow, game.time)  # type: ignore[arg-type]
    loader = threading.Thread(target=fresh.state, args=(game.session,))
    loader.start()
    assert slow.reading.wait(10)  # the loader is folding the log, holding the session's lock
    seen: list[int] = []
    reader = threading.Thread(target=lambda: seen.append(fresh.current(game.session).seq))
    reader.start()
    reader.join(0.5)  # a reader must wait for the fold (it used to return the empty state at once)
    slow.go_on.set()
    loader.join(10)
    reader.join(10)
    assert seen == [last]
