// The shared live client: connects with the page's token, syncs, keeps the last sequence number
// seen (in memory and sessionStorage), drops events it has already seen, hands them on in order,
// reconnects and syncs again. Also the exercise clock and small DOM helpers used by every page.
// Player text is only ever set with textContent / text nodes: never as HTML.
import { io } from "/static/vendor/socket.io.esm.min.js";
import {
  CLOCK_PAUSED, CLOCK_RESUMED, CLOCK_STARTED, MOVE_ENDED, MOVE_STARTED, SESSION_ENDED, SPEED_CHANGED,
} from "./events.js";
import { formatClock, formatScenarioClock } from "./times.js";

export function appData() {
  const el = document.getElementById("app");
  return el ? { ...el.dataset } : {};
}

export function jsonData(id) {
  const el = document.getElementById(id);
  return el ? JSON.parse(el.textContent) : null;
}

// ------------------------------------------------------------------ DOM helpers
// el("p", {class: "x", dir: "auto"}, "text", otherNode): children are text or nodes, never HTML.
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
    else if (value === true) node.setAttribute(key, "");
    else node.setAttribute(key, String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

// Insert node among its siblings ordered by data-seq (ascending, or newest first).
export function insertBySeq(container, node, seq, newestFirst = false) {
  node.dataset.seq = String(seq);
  for (const other of container.children) {
    const s = Number(other.dataset.seq || 0);
    if (newestFirst ? s < seq : s > seq) {
      container.insertBefore(node, other);
      return node;
    }
  }
  container.append(node);
  return node;
}

let announcer = null;
// Speak through the page's ARIA live region (new injects, refusals).
export function announce(text) {
  announcer = announcer || document.getElementById("announcer");
  if (!announcer) return;
  announcer.textContent = "";
  window.setTimeout(() => { announcer.textContent = text; }, 50);
}

export function newId() {
  const bytes = new Uint8Array(12);
  crypto.getRandomValues(bytes); // works outside secure contexts too (randomUUID does not)
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

// The exercise clock, from the sync state and the clock events (t, wall, speed): ticks locally
// while running, frozen while paused. Wall times are the server's: a skew corrects ours.
// With moves (format 2), the scenario time is the current move's clock; the clock never runs
// into a move with stop_clock that has not started (it waits there for the facilitator).
export class ExerciseClock {
  constructor() {
    this.status = "ready";
    this.base = 0;
    this.anchor = 0;
    this.speed = 1;
    this.skew = 0;
    this.scenarioStart = null;
    this.timeScale = 1;
    this.moves = []; // [{id, title, at, stop_clock, scenario_start, time_scale, scenario_anchor}]
    this.moveIndex = 0; // the last move that started
    this.waiting = null; // the id of the move the clock stopped for
  }

  serverNow() {
    return Date.now() / 1000 + this.skew;
  }

  fromState(clock) {
    this.skew = clock.wall - Date.now() / 1000;
    this.status = clock.status;
    this.base = clock.elapsed;
    this.anchor = clock.wall;
    this.speed = clock.speed;
    this.scenarioStart = clock.scenario_start;
    this.timeScale = clock.time_scale || 1;
    this.duration = clock.duration;
    this.moves = clock.moves || [];
    this.moveIndex = clock.move_index || 0;
    this.waiting = clock.waiting ? clock.waiting.id : null;
  }

  apply(event) {
    const p = event.payload || {};
    switch (event.type) {
      case CLOCK_STARTED: this.status = "running"; this.base = 0; this.anchor = event.wall; if (p.speed) this.speed = p.speed; break;
      case CLOCK_PAUSED: this.status = "paused"; this.base = event.t; this.anchor = event.wall; break;
      case CLOCK_RESUMED: this.status = "running"; this.base = event.t; this.anchor = event.wall; break;
      case SPEED_CHANGED: this.base = event.t; this.anchor = event.wall; this.speed = p.speed; break;
      case SESSION_ENDED: this.status = "ended"; this.base = event.t; this.anchor = event.wall; break;
      case MOVE_ENDED: this.status = "paused"; this.base = p.at; this.anchor = event.wall; this.waiting = p.next; break;
      case MOVE_STARTED: {
        const index = this.moves.findIndex((m) => m.id === p.move);
        if (index > this.moveIndex) this.moveIndex = index;
        if (this.waiting === p.move) {
          this.waiting = null;
          this.status = "running";
          this.base = event.t;
          this.anchor = event.wall;
        }
        break;
      }
      default: return false;
    }
    return true;
  }

  // The start of the next move with stop_clock after the last one started: the clock stops there.
  stopAt() {
    for (let i = this.moveIndex + 1; i < this.moves.length; i += 1) {
      if (this.moves[i].stop_clock) return this.moves[i].at;
    }
    return Infinity;
  }

  elapsed() {
    if (this.status !== "running") return this.base;
    return Math.min(this.base + Math.max(0, this.serverNow() - this.anchor) * this.speed, Math.max(this.base, this.stopAt()));
  }

  display() {
    return formatClock(this.elapsed());
  }

  // The move in force: the last one started, or a later one without stop_clock the clock has reached.
  move() {
    if (!this.moves.length) return null;
    const t = this.elapsed();
    let index = this.moveIndex;
    for (let i = this.moveIndex + 1; i < this.moves.length && this.moves[i].at <= t && !this.moves[i].stop_clock; i += 1) index = i;
    return this.moves[index] || null;
  }

  waitingMove() {
    return this.moves.find((m) => m.id === this.waiting) || null;
  }

  scenario() {
    const move = this.move();
    if (move) return formatScenarioClock(move.scenario_start, this.elapsed(), move.time_scale);
    return formatScenarioClock(this.scenarioStart, this.elapsed(), this.timeScale);
  }
}

// Draw the clock into the page's header (elements with data-clock, data-scenario, data-clock-status,
// data-move: the current move's title, data-move-next: the move the clock is waiting for).
export function bindClock(clock) {
  const show = () => {
    for (const node of document.querySelectorAll("[data-clock]")) node.textContent = clock.display();
    for (const node of document.querySelectorAll("[data-scenario]")) {
      const text = clock.scenario();
      node.textContent = text;
      node.hidden = !text;
    }
    for (const node of document.querySelectorAll("[data-clock-status]")) {
      let label = clock.status === "running" && clock.speed !== 1 ? `running ${clock.speed}x` : clock.status;
      if (clock.waiting && clock.status === "paused") label = "plenary";
      if (node.textContent !== label) node.textContent = label;
      node.className = `clock-status ${clock.status}`;
    }
    const move = clock.move();
    const next = clock.waitingMove();
    for (const node of document.querySelectorAll("[data-move]")) {
      const text = move ? move.title : "";
      if (node.textContent !== text) node.textContent = text;
      node.hidden = !text;
    }
    for (const node of document.querySelectorAll("[data-move-next]")) {
      const text = next ? `Next: ${next.title}` : "";
      if (node.textContent !== text) node.textContent = text;
      node.hidden = !text;
    }
  };
  show();
  window.setInterval(show, 250);
  return show;
}

// ------------------------------------------------------------------ the client
// Why the server closed this connection for good (`revoked`), in words.
const REVOKED = {
  logout: "You logged out: log in again to go on.",
  removed: "A facilitator removed you from this session.",
  disabled: "This facilitator account was disabled.",
  revoked: "Your access to this session was revoked.",
};

export class LiveClient {
  constructor({ token, session, role }) {
    this.token = token;
    this.session = session;
    this.role = role; // control | player | observer
    this.seen = new Set();
    this.lastSeq = 0;
    this.key = `tabletop:${session}:${role}:seen`;
    this.seenBefore = Number(sessionStorage.getItem(this.key) || 0); // what this tab had seen before a reload
    this.through = 0; // every event up to here is held: the `through` of the last complete sync
    this.drawn = false; // the first sync of a page draws history: nothing to announce
    this.synced = false; // false from a disconnect until the next sync answers: live events wait
    this.syncing = false;
    this.buffer = [];
    this.handlers = { prepare: [], event: [], state: [], status: [], presence: [], report: [], refused: [], accepted: [] };
    this.refreshTimer = null;
    this.me = null;
    this.state = null;
  }

  on(kind, fn) {
    this.handlers[kind].push(fn);
    return this;
  }

  emitLocal(kind, ...args) {
    for (const fn of this.handlers[kind]) {
      try {
        fn(...args);
      } catch (err) {
        console.error(err); // one broken view must not stop the others
      }
    }
  }

  connect() {
    const socket = io({ auth: { token: this.token }, reconnectionDelayMax: 4000 });
    this.socket = socket;
    this.emitLocal("status", "connecting");
    socket.on("connect", () => this.onConnect());
    socket.on("disconnect", () => {
      this.synced = false; // after the reconnect, live events wait until the sync from `through` answers
      if (!this.revoked) this.emitLocal("status", "offline");
    });
    // The token was revoked (docs/protocol.md): the server closes the connection, which stays closed.
    socket.on("revoked", (data) => {
      const reason = data && data.reason;
      if (reason === "moved") {
        window.location.reload(); // the same seat link now opens the new seat: load it as that seat
        return;
      }
      this.revoked = true;
      this.emitLocal("status", "refused", REVOKED[reason] || REVOKED.revoked);
    });
    socket.on("connect_error", (err) => {
      const text = String((err && err.message) || "");
      this.emitLocal("status", text.startsWith("unauthorised") ? "refused" : "offline", text);
    });
    socket.on("event", (event) => this.receive(event, true));
    socket.on("presence", (data) => this.emitLocal("presence", data));
    socket.on("report", (data) => this.emitLocal("report", data));
    return this;
  }

  async onConnect() {
    if (this.role === "control") {
      const watched = await this.call("watch", { session: this.session });
      if (!watched || !watched.ok) {
        this.emitLocal("status", "refused", watched && watched.error ? watched.error.message : "");
        return;
      }
    }
    await this.sync();
    this.emitLocal("status", "online");
  }

  // The reconnect procedure of docs/protocol.md: events after `through` (the last complete sync), page
  // by page until `more` is false, and the current state; live events that arrive meanwhile wait in
  // the buffer (they never move `through`: a live event may arrive before events sent while away).
  async sync() {
    if (this.syncing) return;
    this.syncing = true;
    try {
      const events = [];
      let after = this.through;
      let answer = null;
      for (;;) {
        const page = await this.call("sync", { after });
        if (page && !page.ok && page.error && page.error.code === "rate_limited") {
          await new Promise((resolve) => window.setTimeout(resolve, 1000)); // the budget refills
          continue;
        }
        if (!page || !page.ok) {
          this.emitLocal("status", "refused", page && page.error ? page.error.message : "sync failed");
          return;
        }
        events.push(...page.events);
        answer = page;
        if (!page.more) break;
        after = page.through;
      }
      const replay = !this.drawn;
      this.me = answer.me;
      this.emitLocal("prepare", answer.state, answer.me, { first: replay }); // build views before events
      events.sort((a, b) => a.seq - b.seq);
      for (const event of events) this.accept(event, !replay);
      this.state = answer.state;
      this.emitLocal("state", answer.state, answer.me, { first: replay });
      this.through = Math.max(this.through, answer.through);
      this.drawn = true;
      this.synced = true;
    } catch (err) {
      console.warn("sync failed", err);
      this.refreshSoon(2000); // a timeout: try again (live events wait meanwhile)
    } finally {
      this.syncing = false;
      const waiting = this.buffer.sort((a, b) => a.seq - b.seq);
      this.buffer = [];
      for (const event of waiting) this.accept(event, true);
    }
  }

  receive(event, live) {
    if (this.seen.has(event.seq)) return;
    if (this.syncing || !this.synced) {
      this.buffer.push(event);
      return;
    }
    this.accept(event, live);
  }

  accept(event, live) {
    if (this.seen.has(event.seq)) return;
    this.seen.add(event.seq);
    if (event.seq > this.lastSeq) {
      this.lastSeq = event.seq;
      try {
        sessionStorage.setItem(this.key, String(this.lastSeq));
      } catch (_err) {
        // private mode: memory only
      }
    }
    const fresh = live || event.seq > this.seenBefore;
    this.emitLocal("event", event, { live, fresh });
  }

  // Ask for the state again soon (after events that change schedules, channels or the level).
  refreshSoon(delay = 250) {
    window.clearTimeout(this.refreshTimer);
    this.refreshTimer = window.setTimeout(() => this.sync(), delay);
  }

  call(name, payload) {
    const data = this.role === "control" && name !== "watch" ? { session: this.session, ...payload } : payload;
    return this.socket.timeout(10000).emitWithAck(name, data);
  }

  // A command with an idempotency key: sent again once after a timeout, stored once.
  async command(name, payload = {}) {
    const body = { client_id: newId(), ...payload };
    let answer;
    try {
      answer = await this.call(name, body);
    } catch (_err) {
      await this.whenConnected();
      try {
        answer = await this.call(name, body);
      } catch (_again) {
        answer = { ok: false, error: { code: "timeout", message: "no answer from the server: check the connection" } };
      }
    }
    if (!answer.ok) this.emitLocal("refused", name, answer.error || {});
    else this.emitLocal("accepted", name);
    return answer;
  }

  whenConnected() {
    if (this.socket.connected) return Promise.resolve();
    return new Promise((resolve) => this.socket.once("connect", () => window.setTimeout(resolve, 300)));
  }
}

// The connection state in the header (elements with data-conn).
export function bindConnection(client) {
  const labels = {
    connecting: "Connecting…",
    online: "Connected",
    offline: "Connection lost: reconnecting…",
    refused: "Not authorised: join again",
  };
  client.on("status", (status, detail) => {
    for (const node of document.querySelectorAll("[data-conn]")) {
      node.textContent = labels[status] || status;
      node.className = `conn ${status === "online" ? "online" : status === "connecting" ? "" : "offline"}`;
      node.title = detail || "";
    }
  });
}

// A refusal in plain words: without the command's name in front ("decide: ..."), with a capital.
export function plainRefusal(name, error) {
  let text = String((error && error.message) || "").trim();
  if (name && text.startsWith(`${name}: `)) text = text.slice(name.length + 2);
  if (!text) text = "The server refused this.";
  return text.charAt(0).toUpperCase() + text.slice(1);
}

// Refusals of commands, spoken and shown in the element with data-errors (its [data-error-text] part,
// when it has one, beside a [data-error-close] button that dismisses it). A refusal clears itself
// when its cause is gone: the next command that is accepted, or the next state after the events
// that changed it (a decision taken, a channel opened, the clock moved).
export function bindRefusals(client) {
  let shownAt = 0;
  const nodes = () => document.querySelectorAll("[data-errors]");
  const clear = () => {
    for (const node of nodes()) node.hidden = true;
    shownAt = 0;
  };
  for (const node of nodes()) {
    const close = node.querySelector("[data-error-close]");
    if (close) close.addEventListener("click", clear);
  }
  client.on("refused", (name, error) => {
    const text = plainRefusal(name, error);
    announce(text);
    shownAt = Date.now();
    for (const node of nodes()) {
      const target = node.querySelector("[data-error-text]") || node;
      target.textContent = text;
      node.hidden = false;
    }
  });
  client.on("accepted", () => { if (shownAt) clear(); });
  client.on("state", () => { if (shownAt && Date.now() - shownAt > 1500) clear(); });
  return clear;
}
