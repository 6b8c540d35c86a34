"""A crash leaves a trace (issue 13): a server killed with SIGKILL and started again logs that the last
run did not stop cleanly, and a running session gets a note, in its feed and its report, saying when
the server went down and came back. A clean stop (SIGTERM) leaves none."""

from __future__ import annotations

import pytest

from .live_server import Client, running_server

pytestmark = pytest.mark.slow


def test_a_killed_server_leaves_a_note_in_its_running_sessions(tmp_path):
    with running_server(tmp_path) as server:
        token = server.login()
        session = server.post("/api/sessions", {"exercise": "minimal"}, token).json()["session"]
        control = Client(server, token, session)
        control.connect()
        assert control.call("clock", {"action": "start"})["ok"]
        control.disconnect()
        server.kill()  # SIGKILL: no chance to clean up
        server.start()
        log = server.log.read_text()
        assert "did not stop cleanly" in log
        again = Client(server, server.login(), session)
        again.connect()
        notes = [e for e in again.of_type("note") if e["payload"]["name"] == "Tabletop server"]
        assert len(notes) == 1 and "stopped without shutting down" in notes[0]["payload"]["text"]
        again.disconnect()
        server.stop()  # SIGTERM: a clean stop
        server.start()
        assert server.log.read_text().count("did not stop cleanly") == 1
