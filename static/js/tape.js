// The tape (issue 14): a session replayed as any view saw it. The server computes each moment
// (web/tape.py: the same view function as live play and sync, the fold from checkpoints); this
// page asks for moments as the scrubber, the player or the step buttons move, one request at a time
// (the latest wins). Player text only ever as text nodes.
import { el, jsonData } from "./live.js";
import { formatClock, formatScenarioClock } from "./times.js";
import { describe, feedItem } from "./views.js";
import { drawTape } from "./beliefs.js";
import { MESSAGE_READ_BACK, MESSAGE_RELAYED, RELAY_NOTE } from "./events.js";

const root = document.getElementById("tape-app");
const data = jsonData("tape-data");
const momentUrl = root.dataset.momentUrl;
const teams = data.teams;
const channelNames = data.channels;

const range = document.getElementById("tape-range");
const marksEl = document.getElementById("tape-marks");
const asSelect = document.getElementById("tape-as");
const playButton = document.getElementById("tape-play");
const speedSelect = document.getElementById("tape-speed");
const list = document.getElementById("tape-events");
const stateEl = document.getElementById("tape-state");
const relayEl = document.getElementById("tape-relay");
const beliefsBody = document.getElementById("beliefs-body");

let current = data.first; // the moment shown
let as = current.as;
let first = current; // the view's marks, belief series, timeline
let timeline = first.seqs || []; // [seq, t]
let playing = false;
let playT = 0;
let lastTick = 0;
let wanted = null; // the seq asked for last
let inFlight = false;
let showAll = false; // every event the view had been sent, not the latest 120
let askedAt = 0; // when the moment now being fetched was asked for (the page's own clock)

const ctx = {
  teams, channelNames, moveNames: {},
  levelLabel: (level) => `level ${level}`,
};

// ------------------------------------------------------------------ asking for moments
async function fetchMoment(seq, { withFirst = false, step = null } = {}) {
  const params = new URLSearchParams({ as, seq: String(seq) });
  if (withFirst) params.set("first", "1");
  if (step) params.set("step", step);
  if (showAll) params.set("limit", "5000");
  const response = await fetch(`${momentUrl}?${params}`, { credentials: "same-origin", headers: { Accept: "application/json" } });
  const body = await response.json();
  if (!response.ok || !body.ok) throw new Error((body.error && body.error.message) || `HTTP ${response.status}`);
  return body;
}

// Go to a moment: at most one request in flight; the last one asked for wins.
function goTo(seq, { withFirst = false } = {}) {
  askedAt = performance.now();
  wanted = { seq: Math.max(0, Math.min(seq, current.last_seq)), withFirst: withFirst || (wanted && wanted.withFirst) };
  range.value = String(wanted.seq);
  if (inFlight) return;
  pump();
}

async function pump() {
  while (wanted) {
    const asked = wanted;
    wanted = null;
    inFlight = true;
    try {
      const moment = await fetchMoment(asked.seq, { withFirst: asked.withFirst });
      if (moment.marks) takeFirst(moment);
      show(moment);
    } catch (err) {
      console.warn("tape", err);
    } finally {
      inFlight = false;
    }
  }
}

function takeFirst(moment) {
  first = moment;
  timeline = moment.seqs || timeline;
  drawMarks(moment.marks || []);
}

// ------------------------------------------------------------------ drawing
function show(moment) {
  current = moment;
  const began = askedAt;
  range.max = String(moment.last_seq);
  range.value = String(moment.seq);
  document.body.dataset.seq = String(moment.seq);
  document.body.dataset.as = as;
  const clock = moment.state.clock || {};
  document.getElementById("tape-clock").textContent = formatClock(moment.t);
  const move = clock.move;
  const scenario = move ? formatScenarioClock(move.scenario_start, moment.t, move.time_scale) : formatScenarioClock(clock.scenario_start, moment.t, clock.time_scale || 1);
  document.getElementById("tape-scenario").textContent = [move ? move.title : "", scenario].filter(Boolean).join(" · ");
  document.getElementById("tape-seq").textContent = `event #${moment.seq} of ${moment.last_seq}`;
  drawEvents(moment);
  drawState(moment);
  drawRelay(moment);
  drawTape(beliefsBody, {
    questions: moment.state.key_questions || [],
    series: first.beliefs || [],
    teams,
    control: as === "control",
    t: moment.t,
    endT: first.end_t || moment.t,
    onPick: (seq) => { stop(); goTo(seq); },
  });
  const url = new URL(window.location.href);
  url.searchParams.set("seq", String(moment.seq));
  url.searchParams.set("as", as);
  window.history.replaceState(null, "", url);
  for (const tick of marksEl.querySelectorAll("button")) tick.classList.toggle("past", Number(tick.dataset.seq) <= moment.seq);
  // How long the last move took, from the scrubber to the drawn moment (read by bench/tape.py).
  if (began) root.dataset.moveMs = (performance.now() - began).toFixed(1);
}

function drawEvents(moment) {
  const items = [];
  const events = moment.events;
  for (let i = events.length - 1; i >= 0; i -= 1) {
    const event = events[i];
    const item = feedItem(event, describe(event, ctx));
    item.dataset.type = event.type;
    item.dataset.seq = String(event.seq);
    if (i === events.length - 1) item.classList.add("now");
    items.push(item);
  }
  list.replaceChildren(...items);
  document.getElementById("tape-count").textContent = String(moment.total);
  const note = document.getElementById("tape-feed-note");
  note.textContent = moment.total > events.length
    ? `The latest ${events.length} of ${moment.total} events this view had been sent by this moment, newest first.`
    : `${moment.total} events this view had been sent by this moment, newest first.`;
  const more = document.getElementById("tape-all");
  more.hidden = !showAll && moment.total <= events.length;
  more.textContent = showAll ? "Only the latest 120" : `Show all ${moment.total}`;
}

function drawState(moment) {
  const s = moment.state;
  const rows = [["Exercise time", formatClock(moment.t)], ["Clock", s.clock.status]];
  if (s.escalation !== undefined) rows.push(["Escalation", `level ${s.escalation}`]);
  const closed = (s.channels || []).filter((c) => c.open === false).map((c) => c.name);
  const jammed = (s.channels || []).filter((c) => c.jammed_until).map((c) => `${c.name} until ${formatClock(c.jammed_until)}`);
  if (closed.length) rows.push(["Closed channels", closed.join(", ")]);
  if (jammed.length) rows.push(["Jammed", jammed.join(", ")]);
  if (s.injects) {
    const counts = {};
    for (const i of Object.values(s.injects)) counts[i.status] = (counts[i.status] || 0) + 1;
    rows.push(["Injects", Object.entries(counts).map(([k, v]) => `${v} ${k}`).join(", ")]);
  }
  stateEl.replaceChildren(...rows.flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]));
}

const ACTIONS = { forward: "forwarded verbatim", edit: "forwarded an edit", hold: "held it", decline: "declined it" };

function drawRelay(moment) {
  const threads = [...moment.relay].reverse();
  document.getElementById("tape-relay-empty").hidden = threads.length > 0;
  relayEl.replaceChildren(...threads.map((th) => {
    const item = el("li", { class: `relay-thread${th.changed ? " changed" : ""}${th.held ? " held" : ""}`, "data-message": th.message });
    const head = [`#${th.message} on ${channelNames[th.channel] || th.channel}`];
    if (th.from_team) head.push(`from ${teams[th.from_team] || th.from_team}${th.name ? `, ${th.name}` : ""}`);
    item.append(el("div", { class: "meta" }, head.join(" · ")));
    if (th.sent !== undefined) item.append(el("div", { class: "said" }, el("span", { class: "label" }, "Sent: "), el("span", { class: "text", dir: "auto" }, th.sent)));
    for (const step of th.steps) {
      if (step.type === MESSAGE_RELAYED) {
        const words = `${formatClock(step.t)} · the intermediary ${ACTIONS[step.action] || step.action}${step.by ? ` (${step.by})` : ""}`;
        item.append(el("div", { class: `step ${step.action}` }, words));
      } else if (step.type === RELAY_NOTE) {
        item.append(el("div", { class: "step note" }, `${formatClock(step.t)} · note from the intermediary: `, el("span", { dir: "auto" }, step.text || "")));
      } else if (step.type === MESSAGE_READ_BACK) {
        item.append(el("div", { class: "step" }, `${formatClock(step.t)} · read back by ${teams[step.team] || step.team || ""}`));
      }
    }
    const passed = th.forwarded !== undefined ? th.forwarded : th.delivered;
    if (passed !== undefined && passed !== null) {
      const label = th.sent !== undefined ? (th.changed ? "Passed on, changed: " : "Passed on unchanged: ") : "Arrived: ";
      item.append(el("div", { class: "said passed" }, el("span", { class: "label" }, label), el("span", { class: "text", dir: "auto" }, passed)));
    } else if (th.held) {
      item.append(el("div", { class: "said held" }, "Held: not passed on by this moment."));
    }
    return item;
  }));
}

function drawMarks(marks) {
  const last = Math.max(1, current.last_seq);
  const buttons = marks.map((m) => {
    const b = el("button", { type: "button", class: `tick k-${m.kind}`, "data-seq": m.seq, title: `${formatClock(m.t)} · ${m.kind}: ${m.label}`, "aria-label": `${m.kind} at ${formatClock(m.t)}: ${m.label}` });
    b.style.left = `${(m.seq / last) * 100}%`;
    b.addEventListener("click", () => { stop(); goTo(m.seq); });
    return b;
  });
  marksEl.replaceChildren(...buttons);
}

// ------------------------------------------------------------------ playing
// Plays in exercise time: at 10x, ten exercise seconds a second; the moment is the last event at or
// before the played time.
function seqAtTime(t) {
  let lo = 0;
  let hi = timeline.length - 1;
  if (hi < 0 || t < timeline[0][1]) return 0;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (timeline[mid][1] <= t) lo = mid; else hi = mid - 1;
  }
  return timeline[lo][0];
}

function tick(now) {
  if (!playing) return;
  const dt = (now - lastTick) / 1000;
  lastTick = now;
  playT += dt * Number(speedSelect.value);
  const seq = seqAtTime(playT);
  if (seq !== current.seq && (!wanted || wanted.seq !== seq)) goTo(seq);
  if (seq >= current.last_seq && !inFlight) {
    stop();
    return;
  }
  window.requestAnimationFrame(tick);
}

function play() {
  if (current.seq >= current.last_seq) goTo(0);
  playing = true;
  playT = current.seq >= current.last_seq ? 0 : current.t;
  lastTick = performance.now();
  playButton.textContent = "Pause";
  playButton.setAttribute("aria-pressed", "true");
  window.requestAnimationFrame(tick);
}

function stop() {
  playing = false;
  playButton.textContent = "Play";
  playButton.setAttribute("aria-pressed", "false");
}

// ------------------------------------------------------------------ controls
playButton.addEventListener("click", () => (playing ? stop() : play()));
range.addEventListener("input", () => { stop(); goTo(Number(range.value)); });
async function stepTo(direction) {
  stop();
  try {
    const moment = await fetchMoment(current.seq, { step: direction });
    show(moment);
  } catch (err) {
    console.warn("tape", err);
  }
}
document.getElementById("tape-prev").addEventListener("click", () => stepTo("prev"));
document.getElementById("tape-next").addEventListener("click", () => stepTo("next"));
document.getElementById("tape-all").addEventListener("click", () => {
  showAll = !showAll;
  goTo(current.seq);
});
asSelect.addEventListener("change", () => {
  as = asSelect.value;
  goTo(current.seq, { withFirst: true });
});
document.addEventListener("keydown", (ev) => {
  if (ev.target.closest("input, select, textarea")) return;
  if (ev.key === " ") { ev.preventDefault(); playing ? stop() : play(); }
  if (ev.key === "ArrowRight") document.getElementById("tape-next").click();
  if (ev.key === "ArrowLeft") document.getElementById("tape-prev").click();
});
for (const link of document.querySelectorAll("#tape-projector")) {
  const url = new URL(link.href, window.location.href);
  link.addEventListener("click", (ev) => {
    ev.preventDefault();
    const here = new URL(window.location.href);
    here.searchParams.set("projector", url.searchParams.get("projector"));
    window.location.href = here.toString();
  });
}

takeFirst(first);
show(first);
