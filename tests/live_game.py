"""A live game on a real server, for the end-to-end and browser tests: the module's server, and a
session the facilitator has made and watches on a socket, its seats joined by code and connected.

    g = open_game(server, "minimal", SEATS)
    g["control"].call("clock", {"action": "start"})
    g["us"].wait_for(...)
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest

from .live_server import Client, Server, running_server

#: A seat: (team, or None for the observer code; name; position, or None).
Seat = tuple[str | None, str, str | None]

#: The seats of tests/data/minimal.yaml (relay.yaml and key-questions.yaml have the same positions).
SEATS: dict[str, Seat] = {
    "us": ("us", "Alice", "j3"),
    "us2": ("us", "Bob", "liaison-us"),
    "iran": ("iran", "Reza", "irgcn"),
    "oman": ("oman", "Salim", "omani-liaison"),
    "observer": (None, "Eve", None),
}


def seats_of(*keys: str) -> dict[str, Seat]:
    """Some of SEATS, by key."""
    return {key: SEATS[key] for key in keys}


@pytest.fixture(scope="module")
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A real server for the test module, with the facilitator 'ctl' (a module may define its own)."""
    with running_server(tmp_path_factory.mktemp(request.module.__name__.rsplit(".", 1)[-1])) as srv:
        yield srv


@dataclass
class Game:
    """A session on a live server: the facilitator's token and socket, and the seats' clients by key."""

    server: Server
    token: str  # the facilitator's
    info: dict[str, Any]  # the answer of POST /api/sessions: session, codes, observer_code
    control: Client  # the facilitator's socket, watching the session
    clients: dict[str, Client] = field(default_factory=dict)
    joined: dict[str, dict[str, Any]] = field(default_factory=dict)  # the answers of /api/join, by key

    @property
    def session(self) -> str:
        return self.info["session"]

    @property
    def tokens(self) -> dict[str, str]:
        return {key: answer["token"] for key, answer in self.joined.items()}

    def __getitem__(self, key: str) -> Client:
        """A seat's client by its key; "control" is the facilitator's socket."""
        return self.control if key == "control" else self.clients[key]

    def code(self, team: str | None) -> str:
        """The team's join code (None: the observer code)."""
        return self.info["observer_code"] if team is None else self.info["codes"][team]

    def join(self, key: str, team: str | None, name: str, position: str | None = None) -> Client:
        """Join a seat by code, kept under `key` with its client (not connected yet)."""
        self.joined[key] = self.server.join(self.code(team), name, position)
        self.clients[key] = Client(self.server, self.joined[key]["token"])
        return self.clients[key]

    def close(self) -> None:
        """Disconnect every client still connected."""
        for client in (self.control, *self.clients.values()):
            if client.sio.connected:
                client.disconnect()


def open_game(server: Server, exercise: str, seats: Mapping[str, Seat] | None = None) -> Game:
    """The facilitator logs in, creates a session of `exercise` and watches it; the `seats` join (all of
    them) and then connect, each client's sync answer in its `answer`."""
    token = server.login()
    response = server.post("/api/sessions", {"exercise": exercise}, token)
    assert response.status_code == 201, response.text
    info = response.json()
    game = Game(server, token, info, Client(server, token, info["session"]))
    game.control.connect()
    for key, seat in (seats or {}).items():
        game.join(key, *seat)
    for client in game.clients.values():
        client.connect()
    return game
