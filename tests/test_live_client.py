"""static/js/live.js follows the reconnect procedure of docs/protocol.md: it syncs after the `through` of
its last complete sync, page by page while `more`, buffering live events until the sync answers
(run by node against a scripted server: a live event arrives before the sync of a reconnect)."""

from __future__ import annotations

import json
import subprocess

import pytest

from tabletop import ROOT

from .services import need_program

LOADER = """
export async function resolve(specifier, context, next) {
  if (specifier === "/static/vendor/socket.io.esm.min.js") {
    const source = "export const io = (...a) => globalThis.__io(...a);";
    return { url: `data:text/javascript,${source}`, shortCircuit: true };
  }
  return next(specifier, context);
}
"""

SCENARIO = r"""
const wait = (ms = 0) => new Promise((r) => setTimeout(r, ms));
globalThis.window = { setTimeout, clearTimeout, setInterval };
globalThis.sessionStorage = { getItem: () => null, setItem: () => {} };

// The server: a log where seq 3 and 8 are not visible to this client; pages of at most 3 events.
const log = [];
const visible = (seq) => seq !== 3 && seq !== 8;
const append = (n) => {
  for (let i = 0; i < n; i += 1) log.push({ seq: log.length + 1, type: "message", payload: {} });
};
append(5);
const syncs = [];
class FakeSocket {
  constructor() { this.handlers = {}; this.connected = false; this.onSync = null; }
  on(name, fn) { (this.handlers[name] ||= []).push(fn); }
  once(name, fn) { this.on(name, fn); }
  fire(name, ...args) { for (const fn of this.handlers[name] || []) fn(...args); }
  timeout() { return this; }
  async emitWithAck(name, data) {
    await wait(5);
    if (name === "watch") { if (this.onWatch) await this.onWatch(); return { ok: true }; }
    syncs.push(data.after);
    const after = data.after;
    const last = log.length;
    const page = log.filter((e) => e.seq > after).slice(0, 4);
    const events = page.filter((e) => visible(e.seq)).slice(0, 3);
    const through = events.length === 3 ? events[2].seq : Math.min(last, after + page.length);
    const more = through < last;
    return { ok: true, events, more, through, last_seq: last, state: { clock: {} }, me: { kind: "facilitator" } };
  }
}
const socket = new FakeSocket();
globalThis.__io = () => socket;
const { LiveClient } = await import(process.argv[2]);
const client = new LiveClient({ token: "t", session: "s", role: ROLE });
const got = [];
client.on("event", (event) => got.push(event.seq));
client.connect();
socket.connected = true;
socket.fire("connect");
await wait(100);
// Disconnected: events 6..10 are appended meanwhile.
socket.connected = false;
socket.fire("disconnect");
append(5);
// Reconnected: event 10 arrives live before the sync answers (for control, while it is watching).
socket.onWatch = async () => { socket.fire("event", log[9]); await wait(5); };
socket.connected = true;
socket.fire("connect");
if (ROLE !== "control") socket.fire("event", log[9]);
await wait(200);
console.log(JSON.stringify({ got, syncs }));
"""


@pytest.mark.parametrize("role", ["control", "player"])
def test_the_browser_client_misses_nothing_across_a_reconnect(tmp_path, role):
    need_program("node")
    loader = tmp_path / "loader.mjs"
    loader.write_text(LOADER)
    register = tmp_path / "register.mjs"
    register.write_text(f'import {{ register }} from "node:module";\nregister({json.dumps(loader.as_uri())});\n')
    script = tmp_path / "scenario.mjs"
    script.write_text(SCENARIO.replace("ROLE", json.dumps(role)))
    done = subprocess.run(
        ["node", "--import", register.as_uri(), str(script), (ROOT / "static" / "js" / "live.js").as_uri()],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["got"] == [1, 2, 4, 5, 6, 7, 9, 10], result  # every visible event once, in order
    assert result["syncs"][0] == 0 and 5 in result["syncs"], result  # the reconnect synced after `through`
