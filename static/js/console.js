// The facilitator's live console: clock, MSEL, relay queues, feed, presence, escalation, notes,
// hotwash progress and the report.
import {
  ExerciseClock, LiveClient, announce, appData, bindClock, bindConnection, bindRefusals, el, insertBySeq, jsonData,
  plainRefusal,
} from "./live.js";
import {
  CLOCK_EVENTS, DECISION_MADE, ESCALATION_CHANGED, FEEDBACK, INJECT_ACKNOWLEDGED, INJECT_RELEASED, INJECT_WRITTEN,
  MESSAGE_READ_BACK, MESSAGE_RELAYED, MESSAGE_SENT, NOTE, PARTICIPANT_JOINED, PARTICIPANT_REMOVED, RELAY_NOTE, SESSION_ENDED,
  SUMMARY_EVENTS,
} from "./events.js";
import { formatClock, formatCountdown, formatShortOffset } from "./times.js";
import { describe, feedItem, filterFeed, teamLabel } from "./views.js";
import { CHOICE_MADE, INJECT_CANCELLED, MESSAGE, MESSAGE_DELIVERED, PERSONA_POSTED } from "./events.js";
import { publicPost } from "./views.js";
import { bindHandoff } from "./handoff.js";
import { bindCounts } from "./counts.js";

const SVG = "http://www.w3.org/2000/svg";
const app = appData();
const script = jsonData("script-data");
const client = new LiveClient({ token: app.token, session: app.session, role: "control" });
const clock = new ExerciseClock();
bindClock(clock);
bindConnection(client);
bindRefusals(client);
bindCounts();
const handoff = bindHandoff({ client, script, session: app.session, token: app.token });

const teams = Object.fromEntries(script.teams.map((t) => [t.id, t.name]));
const positionTitles = Object.fromEntries(script.teams.flatMap((t) => t.positions.map((p) => [p.id, p.title])));
const channelNames = Object.fromEntries(script.channels.map((c) => [c.id, c.name]));
const moveNames = Object.fromEntries((script.moves || []).map((m) => [m.id, m.title]));
const objectiveTexts = Object.fromEntries((script.objectives || []).map((o) => [o.id, o.text]));
const objectiveText = (id) => {
  const text = objectiveTexts[id] || id;
  return text.length > 60 ? `${text.slice(0, 59)}…` : text;
};
const ctx = { teams, channelNames, moveNames, injectTitle: titleOnly, optionLabel, objectiveText };
const $ = (id) => document.getElementById(id);

let state = null;
let ended = false;
const releasedAt = {}; // inject -> exercise time released
const acks = {}; // inject -> team -> [names]
const decisions = {}; // inject -> payload
const written = {}; // live inject id -> definition
const people = new Map(); // participant -> {name, team, position, kind, online}
const feedbackFrom = new Set();
const escalations = []; // {t, level, delta, reason}

// ------------------------------------------------------------------ clock controls
const cmd = (name, payload) => client.command(name, payload);
$("clock-start").addEventListener("click", () => cmd("clock", { action: "start" }));
$("clock-pause").addEventListener("click", () => cmd("clock", { action: "pause" }));
$("clock-resume").addEventListener("click", () => cmd("clock", { action: "resume" }));
$("speed-set").addEventListener("click", () => cmd("clock", { action: "speed", speed: Number($("speed").value) }));
// The sticky clock bar (tablet width): the same commands within reach whatever is scrolled.
for (const button of document.querySelectorAll("[data-clock-action]")) {
  button.addEventListener("click", () => cmd("clock", { action: button.dataset.clockAction }));
}
$("end").addEventListener("click", () => { $("end-confirm").hidden = false; $("end-yes").focus(); });
$("end-no").addEventListener("click", () => { $("end-confirm").hidden = true; $("end").focus(); });
$("end-yes").addEventListener("click", async () => {
  $("end-confirm").hidden = true;
  await cmd("clock", { action: "end" });
});

function updateClockButtons() {
  const s = clock.status;
  $("clock-start").disabled = s !== "ready";
  $("clock-pause").disabled = s !== "running";
  $("clock-resume").disabled = s !== "paused" || Boolean(clock.waiting);
  for (const button of document.querySelectorAll("[data-clock-action]")) {
    button.disabled = $(`clock-${button.dataset.clockAction}`).disabled;
  }
  // Controls that cannot apply after the end: escalation, new injects, persona posts.
  for (const node of document.querySelectorAll("#esc-form button, #esc-form input, #write button[type=submit], #persona-form button")) {
    node.disabled = s === "ended";
  }
  for (const node of document.querySelectorAll("#esc-rungs button")) node.disabled = s === "ended";
  $("esc-ended").hidden = s !== "ended";
  const next = clock.waitingMove();
  $("move-next").hidden = !next || s === "ended";
  if (next && $("move-start").dataset.starts !== next.id) {
    $("move-start").dataset.starts = next.id;
    $("move-start").textContent = `Start ${next.title}`;
  }
  $("speed-set").disabled = s === "ended";
  $("end").disabled = s === "ended";
  if (clock.speed !== shownSpeed) {
    // Follow the clock's speed when it changes, never while the facilitator is choosing one.
    shownSpeed = clock.speed;
    $("speed").value = String(Math.round(clock.speed));
  }
}
let shownSpeed = null;

// ------------------------------------------------------------------ MSEL
const mselRows = new Map(); // inject -> view
const mselList = $("msel");

function mselRow(def, number) {
  const id = def.inject;
  const status = el("span", { class: "badge" }, "…");
  const ackLine = el("div", { class: "acks", dir: "auto" });
  const outcome = el("div", { class: "info", dir: "auto" });
  const moveInput = el("input", { type: "text", id: `move-${id}`, size: 9, placeholder: "+00:30", "aria-label": `New exercise time for ${def.title}` });
  const moveForm = el("form", { class: "inline", hidden: true },
    moveInput, el("button", { type: "submit", class: "small" }, "Move"),
    el("button", { type: "button", class: "secondary small", onclick: () => { moveForm.hidden = true; } }, "Cancel"));
  moveForm.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const at = moveInput.value.trim();
    if (!at) return;
    const answer = await cmd("move_inject", { inject: id, at: at.startsWith("+") ? at : `+${at}` });
    if (answer.ok) moveForm.hidden = true;
  });
  const button = (label, action, cls = "secondary") =>
    el("button", { type: "button", class: `${cls} small`, "data-action": action, onclick: () => act(id, action) }, label,
      el("span", { class: "visually-hidden" }, `: ${def.title}`));
  const buttons = {
    release: button("Send now", "release", ""),
    hold: button("Hold", "hold"),
    unhold: button("Unhold", "unhold"),
    skip: button("Skip", "skip"),
    move: el("button", { type: "button", class: "secondary small", onclick: () => { moveForm.hidden = false; moveInput.focus(); } },
      "Move", el("span", { class: "visually-hidden" }, `: ${def.title}`)),
  };
  const info = [
    def.scenario ? `scenario ${def.scenario}` : "",
    def.move && def.due === null && movesById[def.move] ? `in ${movesById[def.move].title}` : "",
    (def.to || []).length ? `to ${def.to.map((t) => teamLabel(teams, t)).join(", ")}` : "",
    def.release_words || def.release ? `release: ${def.release_words || def.release}` : "",
    def.ack ? "ack" : "",
    def.decision ? `decision by ${(def.decision.by || []).map((p) => positionTitles[p] || p).join(", ") || "anyone"}` : "",
    (def.effects || []).join("; "),
  ].filter(Boolean).join(" · ");
  const infoLine = el("div", { class: "info", dir: "auto" }, info);
  const node = el("li", { "data-inject": id, id: `msel-${id}` },
    el("span", { class: "time" }, def.time || "—"),
    el("div", {},
      el("div", {}, el("span", { class: "title", dir: "auto" }, `${number ? `${number}. ` : ""}${def.title}`), " ", status),
      infoLine,
      outcome, ackLine),
    el("div", { class: "row-actions" }, ...Object.values(buttons), moveForm));
  const view = { id, def, node, status, ackLine, outcome, buttons, moveForm, infoLine, info, order: mselRows.size };
  format2Row(view);
  mselRows.set(id, view);
  mselList.append(node);
  return view;
}

// Moves (format 2): a heading before the first timed inject of each move, with its scenario date.
const movesById = Object.fromEntries((script.moves || []).map((m) => [m.id, m]));
let headedMove = null;
for (const def of script.msel) {
  const move = def.move ? movesById[def.move] : null;
  if (move && def.due !== null && move.id !== headedMove) {
    headedMove = move.id;
    mselList.append(el("li", { class: "move-heading", "data-move-heading": move.id },
      el("span", { class: "time" }, formatShortOffset(move.at)),
      el("div", { dir: "auto" }, el("strong", {}, move.title),
        el("span", { class: "info" }, [move.scenario ? ` · from ${move.scenario}` : "", move.stop_clock ? " · the clock stops for a plenary" : ""].join("")))));
  }
  mselRow(def, def.number);
}

async function act(id, action) {
  const names = { release: "release_inject", hold: "hold_inject", unhold: "unhold_inject", skip: "skip_inject" };
  await cmd(names[action], { inject: id });
}

function injectStatus(id) {
  const s = state && state.injects ? state.injects[id] : null;
  return s || { status: "pending", due: null };
}

function renderMsel() {
  if (!state) return;
  for (const [id, s] of Object.entries(state.injects || {})) {
    if (!mselRows.has(id)) {
      const def = written[id] || { inject: id, title: s.title, to: s.to };
      mselRow({ ...def, inject: id, title: s.title, to: s.to, release: "written live", live: true, due: null, time: s.due !== null ? formatShortOffset(s.due) : "" }, 0);
    }
  }
  const now = clock.elapsed();
  let released = 0;
  for (const view of mselRows.values()) {
    const s = injectStatus(view.id);
    let text = s.status;
    let cls = s.status;
    if (s.status === "released") {
      released += 1;
      text = releasedAt[view.id] !== undefined ? `released ${formatClock(releasedAt[view.id])}` : "released";
    } else if (ended && s.status !== "skipped") {
      text = "not released";
      cls = "";
    } else if (s.status === "scheduled" && s.due !== null) {
      const left = s.due - now;
      cls = "due";
      if (left <= 0) text = "due now";
      else text = `due in ${formatCountdown(left)}${clock.status === "running" ? "" : " (clock stopped)"}`;
    } else if (s.status === "pending") {
      text = "pending";
      cls = "";
    }
    [text, cls] = conditionStatus(view.id, s, text, cls, now);
    const dead = ["pending", "held"].includes(s.status) && !ended ? deadReason(view.def) : null;
    if (dead) [text, cls] = [dead, "cancelled"];
    const moved = s.status !== "released" && s.due !== null && s.due !== undefined && view.def.due !== null
      && view.def.due !== undefined && Math.abs(s.due - view.def.due) >= 1;
    const infoText = moved ? `${view.info}${view.info ? " · " : ""}moved to ${formatShortOffset(s.due)} (scripted ${formatShortOffset(view.def.due)})` : view.info;
    if (view.infoLine.textContent !== infoText) view.infoLine.textContent = infoText;
    if (view.status.textContent !== text) view.status.textContent = text;
    view.status.className = `badge ${cls}`;
    view.node.className = `is-${s.status}`;
    const open = s.status !== "released" && !ended;
    view.buttons.release.hidden = !open;
    view.buttons.hold.hidden = !open || !["pending", "scheduled"].includes(s.status);
    view.buttons.unhold.hidden = !open || s.status !== "held";
    view.buttons.skip.hidden = !open || s.status === "skipped";
    view.buttons.move.hidden = !open || s.status === "skipped";
    if (s.status === "cancelled") view.buttons.skip.hidden = view.buttons.move.hidden = true;
    if (s.due !== null && s.due !== undefined && s.status !== "released") {
      view.node.querySelector(".time").textContent = formatShortOffset(s.due);
    }
    renderAcks(view);
  }
  $("msel-summary").textContent = `${released} of ${mselRows.size} released`;
  orderMsel();
  if (!scrolled && clock.status !== "ready") {
    // On opening, show the next inject to come rather than the top of the list.
    scrolled = true;
    const next = [...mselRows.values()].find((v) => !["released", "skipped"].includes(injectStatus(v.id).status));
    if (next) mselList.scrollTop = Math.max(0, next.node.offsetTop - mselList.offsetTop - 40);
  }
}
let scrolled = false;

// Rows in the order they happen: released ones at their release, the others at their due time (a
// moved inject moves, an inject written live takes its place); a row without a time stays after the
// row it followed in the script. Move headings keep their place at their move's start.
function orderMsel() {
  const keyed = [];
  let last = -Infinity;
  for (const node of mselList.children) {
    const id = node.dataset.inject;
    if (!id) {
      const move = movesById[node.dataset.moveHeading];
      keyed.push({ node, key: move ? move.at : last, tie: -1, order: -1 });
      continue;
    }
    const view = mselRows.get(id);
    const s = injectStatus(id);
    let key = releasedAt[id] !== undefined ? releasedAt[id] : s.due !== null && s.due !== undefined ? s.due : view.def.due;
    if (key === null || key === undefined) key = view.def.live ? Infinity : last;
    else last = view.def.live ? last : key;
    keyed.push({ node, key, tie: 0, order: view.order });
  }
  const sorted = [...keyed].sort((a, b) => a.key - b.key || a.tie - b.tie || a.order - b.order);
  if (sorted.every((x, i) => x.node === keyed[i].node)) return;
  const focused = document.activeElement;
  for (const x of sorted) mselList.append(x.node);
  if (focused && mselList.contains(focused)) focused.focus();
}

// An inject that follows another (a trigger) can no longer fire once that one was skipped or
// cancelled, or its decision went another way, or it cannot fire itself.
function deadReason(def, seen = new Set()) {
  const t = def.trigger;
  if (!t || (!t.inject && !t.decision)) return null;
  const source = t.inject || t.decision;
  if (seen.has(source)) return null;
  seen.add(source);
  const s = injectStatus(source);
  const name = `“${titleOnly(source)}”`;
  if (s.status === "skipped") return `cannot fire: ${name} was skipped`;
  if (s.status === "cancelled") return `cannot fire: ${name} was cancelled`;
  if (t.decision && t.option && decisions[t.decision] && decisions[t.decision].option !== t.option) {
    return `cannot fire: ${name} was decided otherwise`;
  }
  if (s.status !== "released") {
    const before = script.msel.find((d) => d.inject === source) || written[source];
    if (before && deadReason(before, seen)) return `cannot fire: it follows ${name}, which cannot fire`;
  }
  return null;
}

function renderAcks(view) {
  const d = decisions[view.id];
  view.outcome.textContent = d
    ? `Decision: ${d.label || "none"}${d.by_default ? " (default at the deadline)" : d.name ? ` by ${d.name}` : ""}${d.rationale ? `. Rationale: ${d.rationale}` : ""}`
    : outcomes[view.id] || "";
  if (!view.def.ack || injectStatus(view.id).status !== "released") {
    view.ackLine.textContent = "";
    return;
  }
  const parts = (view.def.to || []).map((team) => {
    const names = (acks[view.id] || {})[team] || [];
    return `${teamLabel(teams, team)} ${names.length ? `✓ ${names.join(", ")}` : "✗ not yet"}`;
  });
  view.ackLine.textContent = `Acknowledged: ${parts.join(" · ")}`;
}

window.setInterval(() => { renderMsel(); updateClockButtons(); }, 500);

// Composer for a new inject.
for (const team of script.teams) {
  $("write-to").append(el("label", { class: "choice" },
    el("input", { type: "checkbox", name: "to", value: team.id }), el("span", { dir: "auto" }, team.name)));
}
$("write").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const to = [...document.querySelectorAll("#write-to input:checked")].map((i) => i.value);
  if (!to.length) {
    announce("Choose at least one team");
    document.querySelector("#write-to input").focus();
    return;
  }
  const at = $("write-at").value.trim();
  const payload = {
    to, title: $("write-title").value, body: $("write-body").value, from: $("write-from").value,
    medium: $("write-medium").value, ack: $("write-ack").checked,
  };
  if (at) payload.at = at.startsWith("+") ? at : `+${at}`;
  const answer = await cmd("write_inject", payload);
  if (answer.ok) {
    $("write").reset();
    announce("Inject written");
  }
});

$("move-start").addEventListener("click", () => {
  if (clock.waiting) cmd("start_move", { move: clock.waiting });
});

// ------------------------------------------------------------------ channels
// Open, close, jam or clear each channel of the script; the state summary says where each stands.
const channelRows = new Map(); // channel id -> view
for (const c of script.channels.filter((x) => x.kind !== "team")) {
  const status = el("span", { class: "badge" }, "open");
  const control = (label, action, payload = {}) => el("button", {
    type: "button", class: "secondary small", "data-channel-action": action,
    onclick: () => cmd("channel", { channel: c.id, action, ...payload() }),
  }, label, el("span", { class: "visually-hidden" }, `: ${c.name}`));
  const minutes = el("select", { "aria-label": `Jam ${c.name} for` },
    ...[5, 10, 15, 30].map((m) => el("option", { value: m }, `${m} min`)));
  const buttons = {
    open: control("Open", "open", () => ({})),
    close: control("Close", "close", () => ({})),
    jam: control("Jam", "jam", () => ({ for: Number(minutes.value) * 60 })),
    clear: control("Clear jam", "clear", () => ({})),
  };
  const node = el("li", { "data-channel": c.id },
    el("div", {}, el("span", { dir: "auto" }, c.name), " ", status),
    el("div", { class: "actions" }, buttons.open, buttons.close, buttons.jam, minutes, buttons.clear));
  channelRows.set(c.id, { node, status, buttons, minutes });
  $("channel-controls").append(node);
}

function renderChannels() {
  const byId = Object.fromEntries(((state && state.channels) || []).map((c) => [c.id, c]));
  for (const [id, view] of channelRows) {
    const c = byId[id];
    if (!c) continue;
    const jammed = c.jammed_until !== null && c.jammed_until !== undefined;
    const text = !c.open ? "closed" : jammed ? `jammed until ${formatClock(c.jammed_until)}` : "open";
    view.status.textContent = text;
    view.status.className = `badge ${!c.open ? "closed" : jammed ? "jammed" : "open"}`;
    view.buttons.open.hidden = c.open;
    view.buttons.close.hidden = !c.open;
    view.buttons.clear.hidden = !jammed;
    for (const b of Object.values(view.buttons)) b.disabled = ended;
    view.minutes.disabled = ended;
  }
}

// ------------------------------------------------------------------ relay queues
const relayViews = {};
for (const c of script.channels.filter((x) => x.kind === "relay")) {
  const list = el("ol", { class: "inbox-list", "aria-label": `Waiting on ${c.name}` });
  const empty = el("p", { class: "muted small" }, "Nothing waiting.");
  const via = c.relay === "control" ? "you (exercise control)" : teamLabel(teams, c.relay);
  const voice = el("ol", { class: "notes small", "aria-label": `Notes and read-backs on ${c.name}` });
  const composer = c.relay === "control" ? controlNoteComposer(c) : null;
  $("relays").append(el("div", { "data-relay-channel": c.id }, el("h3", { dir: "auto" }, `${c.name}`),
    el("p", { class: "small muted" }, `Relayed by ${via}`), empty, list, composer, voice));
  relayViews[c.id] = { list, empty, voice, items: new Map() };
}

function relayQueued(event) {
  const p = event.payload;
  const view = relayViews[p.channel];
  if (!view) return;
  const status = el("span", { class: "badge with-relay" }, "waiting");
  const readback = el("input", { type: "checkbox", checked: Boolean(p.readback), disabled: Boolean(p.readback), "aria-label": `Ask for a read-back of #${event.seq} when forwarding` });
  const relayAs = (action) => () => {
    const payload = { message: event.seq, action };
    if (action === "forward" && readback.checked) payload.readback = true;
    return cmd("relay", payload);
  };
  const buttons = el("div", { class: "actions" },
    ...[["Forward", "forward"], ["Hold", "hold"], ["Decline", "decline"]].map(([label, action]) =>
      el("button", { type: "button", class: "secondary small", onclick: relayAs(action) }, label)),
    el("label", { class: "choice small" }, readback, el("span", {}, p.readback ? "read-back asked by the sender" : "ask for a read-back")));
  const node = el("li", { class: "relay-item" },
    el("div", { class: "from", dir: "auto" }, `#${event.seq} from ${teamLabel(teams, p.from_team)}${p.name ? ` (${p.name})` : ""} → ${(p.to || []).map((t) => teamLabel(teams, t)).join(", ")}`),
    el("div", { class: "text", dir: "auto" }, p.text),
    p.instructions ? el("div", { class: "instructions small", dir: "auto" }, `Instructions for the intermediary: ${p.instructions}`) : null,
    el("div", { class: "meta" }, formatClock(event.t), " ", status),
    buttons);
  insertBySeq(view.list, node, event.seq);
  view.items.set(event.seq, { node, status });
  view.empty.hidden = true;
}

function relayDone(event) {
  const p = event.payload;
  const view = relayViews[p.channel];
  const item = view && view.items.get(p.message);
  if (!item) return;
  if (p.action === "hold") {
    item.status.textContent = "held";
    item.status.className = "badge held";
    return;
  }
  item.node.remove();
  view.items.delete(p.message);
  view.empty.hidden = view.items.size > 0;
}

// The intermediary's voice on each relay channel: notes to one side and read-backs, as control
// sees them (everything); on a channel control relays itself, control writes the notes.
function controlNoteComposer(c) {
  const id = `control-note-${c.id}`;
  const text = el("textarea", { id, dir: "auto", rows: 2, maxlength: 4000 });
  const buttons = c.members.map((team) =>
    el("button", { type: "submit", class: "secondary small", value: team }, `Note to the ${teamLabel(teams, team)} side`));
  const form = el("form", { class: "composer" }, el("label", { for: id }, `Note on ${c.name} to one side only`), text,
    el("div", { class: "inline" }, ...buttons));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const to = ev.submitter ? ev.submitter.value : "";
    if (!to || !text.value.trim()) return;
    const answer = await cmd("write_relay_note", { channel: c.id, to, text: text.value });
    if (answer.ok) text.value = "";
  });
  return form;
}

function relayVoice(event) {
  const p = event.payload;
  const view = relayViews[p.channel];
  if (!view) return;
  const line = event.type === RELAY_NOTE
    ? `Note to ${teamLabel(teams, p.to)} by ${p.by}${p.message ? ` (about #${p.message})` : ""}: `
    : `Read-back of #${p.message} by ${teamLabel(teams, p.team)}${p.name ? ` (${p.name})` : ""}: `;
  insertBySeq(view.voice, el("li", { dir: "auto" }, el("span", { class: "muted small" }, `${formatClock(event.t)} · ${line}`), p.text), event.seq, true);
}

// ------------------------------------------------------------------ presence
function renderPresence() {
  const box = $("presence");
  box.replaceChildren();
  const groups = [...script.teams.map((t) => ({ id: t.id, name: t.name })), { id: null, name: "Observers" }];
  for (const group of groups) {
    const members = [...people.entries()].filter(([, p]) => (group.id ? p.team === group.id : p.kind === "observer"));
    const online = members.filter(([, p]) => p.online === true).length;
    const list = el("ul", { class: "people small" });
    for (const [, p] of members) {
      const badge = p.online === true ? ["online", "online"] : p.online === false ? ["offline", "offline"] : ["joined", "offline"];
      list.append(el("li", {}, el("span", { class: `badge ${badge[1]}` }, badge[0]),
        el("span", { dir: "auto" }, `${p.name}${p.position ? ` — ${positionTitles[p.position] || p.position}` : ""}`)));
    }
    if (!members.length) list.append(el("li", { class: "muted" }, "nobody yet"));
    box.append(el("h3", { dir: "auto" }, `${group.name} `, el("span", { class: "small muted" }, `${online}/${members.length} online`)), list);
  }
}
client.on("presence", (data) => {
  const known = people.get(data.participant) || { name: data.name, team: data.team, kind: data.team ? "player" : "observer" };
  known.online = data.online;
  people.set(data.participant, known);
  renderPresence();
});

// ------------------------------------------------------------------ escalation
function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

function renderEscalation() {
  const level = state && typeof state.escalation === "number" ? state.escalation : (escalations.at(-1) || { level: ladder.start }).level;
  $("esc-level").textContent = levelLabel(level);
  renderRungs(level);
  const levels = [0, level, ...escalations.map((e) => e.level)];
  const lo = Math.min(-3, ...levels);
  const hi = Math.max(10, ...levels);
  const angle = (v) => Math.PI * (1 - (v - lo) / (hi - lo)); // left (lo) to right (hi)
  const point = (v, r) => [100 + r * Math.cos(angle(v)), 100 - r * Math.sin(angle(v))];
  const arc = (a, b, color) => {
    const [x1, y1] = point(a, 80);
    const [x2, y2] = point(b, 80);
    return svg("path", { d: `M ${x1} ${y1} A 80 80 0 0 1 ${x2} ${y2}`, stroke: color, "stroke-width": 16, fill: "none" });
  };
  const [nx, ny] = point(level, 70);
  const gauge = svg("svg", { viewBox: "0 0 200 118", class: "gauge", role: "img", "aria-label": `Escalation level ${level} on a scale from ${lo} to ${hi}` },
    arc(lo, 0, "#2e8540"), arc(0, Math.min(4, hi), "#d49b00"), arc(Math.min(4, hi), hi, "#c8102e"),
    svg("line", { x1: 100, y1: 100, x2: nx, y2: ny, class: "needle", "stroke-linecap": "round" }),
    svg("circle", { cx: 100, cy: 100, r: 6, fill: "#17202a" }),
    svg("text", { x: 14, y: 116, "font-size": 11, fill: "#1b1f24" }, String(lo)),
    svg("text", { x: 186, y: 116, "font-size": 11, fill: "#1b1f24", "text-anchor": "end" }, String(hi)),
    svg("text", { x: 100, y: 84, "font-size": 20, "font-weight": 700, fill: "#1b1f24", "text-anchor": "middle" }, String(level)));
  // History: the level over exercise time as steps.
  const end = Math.max(clock.elapsed(), ...escalations.map((e) => e.t), 60);
  const x = (t) => 4 + (t / end) * 192;
  const y = (v) => 56 - ((v - lo) / (hi - lo)) * 52;
  let last = ladder.start;
  let d = `M ${x(0)} ${y(last)}`;
  for (const e of escalations) {
    d += ` L ${x(e.t)} ${y(last)} L ${x(e.t)} ${y(e.level)}`;
    last = e.level;
  }
  d += ` L ${x(end)} ${y(last)}`;
  const history = svg("svg", { viewBox: "0 0 200 60", class: "history", role: "img", "aria-label": "Escalation level over exercise time" },
    svg("line", { x1: 4, x2: 196, y1: y(0), y2: y(0), stroke: "#8a96a3", "stroke-dasharray": "3 3" }),
    svg("path", { d, stroke: "#0b5cad", "stroke-width": 2, fill: "none" }));
  $("gauge").replaceChildren(gauge, history);
}

$("esc-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const reason = $("esc-reason").value;
  const answer = ev.submitter && ev.submitter.name === "level"
    ? await cmd("escalate", { level: Number($("esc-to").value), reason })
    : await cmd("escalate", { delta: Number(ev.submitter ? ev.submitter.value : 1), reason });
  if (answer.ok) $("esc-reason").value = "";
});

// ------------------------------------------------------------------ notes
$("note-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const text = $("note-text").value.trim();
  if (!text) return;
  const answer = await cmd("note", { text });
  if (answer.ok) $("note-text").value = "";
});

// ------------------------------------------------------------------ feed
for (const team of script.teams) $("feed-team").append(el("option", { value: team.id }, team.name));
for (const c of script.channels) $("feed-channel").append(el("option", { value: c.id }, c.name));
const refilter = () => filterFeed($("feed"), $("feed-team").value, $("feed-channel").value);
$("feed-team").addEventListener("change", refilter);
$("feed-channel").addEventListener("change", refilter);

// ------------------------------------------------------------------ hotwash and report
function renderHotwash() {
  const total = [...people.values()].length;
  if (!ended) return;
  $("hotwash-progress").textContent = `Hotwash: ${feedbackFrom.size} of ${total} participants have answered.`;
  $("hotwash-bar").max = Math.max(total, 1);
  $("hotwash-bar").value = feedbackFrom.size;
}

// A build is asked for once (POST, answered 202 {ok, report: {id, status, progress, ...}}, docs/report.md);
// its progress then comes only as `report` socket events ({session, report, status, progress, error}).
const auth = { Authorization: `Bearer ${app.token}` };
let reportId = null;
let reportHeard = false; // a `report` event of this build has come (it may come before the POST's answer)
let reportOpen = false; // the build is neither done nor failed

function reportProgress(status, progress, error) {
  const words = { queued: "Queued", building: "Building", done: "Ready", failed: "Failed" };
  $("report-status").textContent = `${words[status] || status}${progress !== undefined && status !== "done" ? ` (${progress}%)` : ""}${error ? `: ${error}` : ""}`;
  $("report-bar").hidden = false;
  $("report-bar").value = status === "done" ? 100 : progress || 0;
  if (status === "done") showDownload();
  if (status === "done" || status === "failed") handoff.refreshReports();
  reportOpen = status !== "done" && status !== "failed";
  if (!reportOpen) $("report-build").disabled = false;
}

function showDownload() {
  // The report routes accept the facilitator's page login too: a plain link downloads it.
  const link = $("report-download");
  if (!reportId || link.dataset.ready === String(reportId)) return;
  link.href = `/api/reports/${encodeURIComponent(reportId)}/pdf`;
  link.setAttribute("download", `tabletop-${app.session}-report.pdf`);
  link.dataset.ready = String(reportId);
  link.hidden = false;
  announce("The report is ready to download");
}

$("report-build").addEventListener("click", async () => {
  $("report-build").disabled = true;
  $("report-download").hidden = true;
  $("report-status").textContent = "Asking for a report…";
  reportId = null;
  reportHeard = false;
  let response;
  try {
    response = await fetch(`/api/sessions/${encodeURIComponent(app.session)}/reports`, { method: "POST", headers: { ...auth, "Content-Type": "application/json" }, body: "{}" });
  } catch (_err) {
    $("report-status").textContent = "The server could not be reached.";
    $("report-build").disabled = false;
    return;
  }
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    $("report-status").textContent = data.error && data.error.message ? plainRefusal("", data.error) : `The report could not be started (${response.status}).`;
    $("report-build").disabled = false;
    return;
  }
  if (reportId !== data.report.id) {
    reportId = data.report.id;
    reportHeard = false;
  }
  if (!reportHeard) reportProgress(data.report.status, data.report.progress, data.report.error);
});

client.on("report", (data) => {
  if (data.session !== app.session) return;
  if (reportId === null) reportId = data.report; // the build's first event came before the POST's answer
  if (data.report !== reportId) return; // another facilitator's build of this session
  reportHeard = true;
  reportProgress(data.status, data.progress, data.error);
});

// Events sent while the socket was away are not replayed: after a reconnection, ask once where the build stands.
client.on("status", async (status) => {
  if (status !== "online" || reportId === null || !reportOpen) return;
  const response = await fetch(`/api/reports/${encodeURIComponent(reportId)}`, { headers: auth }).catch(() => null);
  if (!response || !response.ok) return;
  const data = await response.json();
  reportProgress(data.report.status, data.report.progress, data.report.error);
});

// ------------------------------------------------------------------ events and state
client.on("state", (s) => {
  state = s;
  clock.fromState(s.clock);
  if (s.clock.status === "ended") ended = true;
  renderMsel();
  renderEscalation();
  renderChannels();
  updateClockButtons();
  renderHotwash();
  if (Array.isArray(s.presence)) {
    // Who is connected now (to this worker): presence events only tell of changes after this.
    const online = new Set(s.presence);
    for (const [id, person] of people) person.online = online.has(id);
    renderPresence();
  }
});

client.on("event", (event, { live }) => {
  const p = event.payload;
  if (CLOCK_EVENTS.has(event.type)) {
    clock.apply(event);
    updateClockButtons(); // at once, not at the next half-second tick: no Pause offered while paused
  }
  switch (event.type) {
    case INJECT_RELEASED:
      releasedAt[p.inject] = event.t;
      if (live) announce(`Released: ${p.title}`);
      break;
    case INJECT_WRITTEN: written[p.definition.inject] = p.definition; break;
    case INJECT_ACKNOWLEDGED: {
      const byTeam = (acks[p.inject] = acks[p.inject] || {});
      (byTeam[p.team] = byTeam[p.team] || []).push(p.name);
      break;
    }
    case DECISION_MADE: decisions[p.inject] = p; break;
    case PARTICIPANT_JOINED:
      people.set(p.participant, { name: p.name, team: p.team || null, position: p.position, kind: p.kind, online: people.get(p.participant)?.online });
      renderPresence();
      break;
    case PARTICIPANT_REMOVED: // removed, or moved (its new seat's participant_joined follows)
      people.delete(p.participant);
      renderPresence();
      break;
    case MESSAGE_SENT: if (p.relay) relayQueued(event); break;
    case MESSAGE_RELAYED: relayDone(event); break;
    case RELAY_NOTE: case MESSAGE_READ_BACK: relayVoice(event); break;
    case ESCALATION_CHANGED:
      escalations.push({ t: event.t, level: p.level, delta: p.delta, reason: p.reason });
      insertBySeq($("esc-history"), el("li", { dir: "auto" }, `${formatClock(event.t)} · ${p.delta > 0 ? "+" : ""}${p.delta} → ${levelLabel(p.level)}: ${reasonText(p.reason)}${p.by ? ` (${p.by})` : ""}`), event.seq, true);
      renderEscalation();
      break;
    case INJECT_CANCELLED: outcomes[p.inject] = `Cancelled at ${formatClock(event.t)}: ${p.reason}`; break;
    case CHOICE_MADE:
      outcomes[p.choice] = `${p.inject ? `Chose ${titleOf(p.inject)}` : "Nothing chosen"} at ${formatClock(event.t)}: ${p.reason}`;
      break;
    case MESSAGE: case MESSAGE_DELIVERED: case PERSONA_POSTED: addPublicPost(event); break;
    case NOTE:
      insertBySeq($("notes"), el("li", { dir: "auto" }, el("span", { class: "muted small" }, `${formatClock(event.t)} · ${p.name}: `), p.text), event.seq, true);
      break;
    case FEEDBACK: feedbackFrom.add(p.participant); renderHotwash(); break;
    case SESSION_ENDED: ended = true; renderHotwash(); break;
    default: break;
  }
  const info = describe(event, ctx);
  const item = feedItem(event, info);
  insertBySeq($("feed"), item, event.seq, true);
  const team = $("feed-team").value;
  const channel = $("feed-channel").value;
  if (team || channel) filterFeed({ children: [item] }, team, channel);
  if (live && SUMMARY_EVENTS.has(event.type)) client.refreshSoon(); // the state summary changed
});

// ------------------------------------------------------------------ format 2 in the console
// Conditions and choices in the MSEL, exercise events (fiction) and sources, the escalation ladder
// (rung names beside the level; control sets a level or a change, with a reason), and the public
// feed, where control posts as the script's personas.
const outcomes = {}; // inject -> what a cancellation or a choice made of it
function titleOf(id) {
  return titleOnly(id);
}
// Names, never ids: an inject's title, a decision option's label, an escalation reason in words.
function titleOnly(id) {
  const row = script.msel.find((d) => d.inject === id) || written[id];
  return row ? row.title : (state && state.injects && state.injects[id] && state.injects[id].title) || id;
}
function optionLabel(inject, option) {
  const row = script.msel.find((d) => d.inject === inject);
  const found = row && row.decision ? (row.decision.options || []).find((o) => o.id === option) : null;
  return found ? found.label : option;
}
function reasonText(reason) {
  const text = String(reason || "");
  let m = text.match(/^decision (\S+): (\S+)$/);
  if (m) return `decision “${titleOnly(m[1])}”: ${optionLabel(m[1], m[2])}`;
  m = text.match(/^inject (\S+)$/);
  if (m) return `inject “${titleOnly(m[1])}”`;
  return text;
}
ctx.reasonText = reasonText;

function format2Row(view) {
  const def = view.def;
  if (def.fiction) view.status.after(" ", el("span", { class: "badge fiction" }, "exercise event"));
  const lines = [
    def.when ? `When: ${def.when}` : "",
    def.unless ? `Unless: ${def.unless}` : "",
    def.choose ? `Chooses: ${def.choose.map((c) => c.replace(/^(\S+)/, (id) => titleOf(id))).join("; ")}` : "",
    def.source ? `Source: ${def.source}` : "",
  ].filter(Boolean);
  if (lines.length) view.outcome.before(el("div", { class: "info", dir: "auto" }, lines.join(" · ")));
}

function conditionStatus(id, s, text, cls, now) {
  if (s.status === "cancelled") return [ended ? "cancelled" : "cancelled (unless)", "cancelled"];
  if (!s.condition || ended || !["pending", "scheduled"].includes(s.status)) return [text, cls];
  if (s.condition === "pending") return ["waiting for its condition", ""];
  if (s.condition === "waiting" && s.due !== null) {
    const left = s.due - now;
    return [left > 0 ? `due in ${formatCountdown(left)} if nothing happens first` : "due now", "due"];
  }
  return [text, cls];
}

const ladder = { start: 0, rungs: [], ...(script.escalation || {}) };
ctx.levelLabel = levelLabel; // the all-channels feed names the rung too
function rungOf(level) {
  let found = null;
  for (const rung of ladder.rungs) if (rung.level <= level) found = rung;
  return found;
}
function levelLabel(level) {
  const rung = rungOf(level);
  return rung ? `${level} · ${rung.name}` : `level ${level}`;
}
function renderRungs(level) {
  const box = $("esc-rungs");
  if (!box || !ladder.rungs.length) return;
  const current = rungOf(level);
  box.replaceChildren(...[...ladder.rungs].reverse().map((rung) =>
    el("li", { class: rung === current ? "current" : "", title: rung.description || "" },
      el("span", { class: "level" }, String(rung.level)),
      el("button", { type: "button", class: "link", onclick: () => { $("esc-to").value = String(rung.level); $("esc-to").focus(); } }, rung.name),
      rung === current ? el("span", { class: "visually-hidden" }, " (current)") : null)));
}
if ($("esc-to")) $("esc-to").value = String(ladder.start);

// The public feed: every post on the broadcast channels, newest first; control posts as a persona.
const publicChannels = script.channels.filter((c) => c.kind === "broadcast");
const personas = script.personas || [];
if ($("public-panel")) {
  $("public-panel").hidden = !publicChannels.length;
  for (const persona of personas) {
    $("persona").append(el("option", { value: persona.id }, `${persona.name}${persona.team ? ` (${teamLabel(teams, persona.team)})` : ""}`));
  }
  for (const c of publicChannels) $("persona-channel").append(el("option", { value: c.id }, c.name));
  $("persona-channel-field").hidden = publicChannels.length < 2;
  $("persona-form").hidden = !personas.length;
  $("persona-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const text = $("persona-text").value.trim();
    if (!text) return;
    const answer = await cmd("post_as_persona", { persona: $("persona").value, channel: $("persona-channel").value, text });
    if (answer.ok) $("persona-text").value = "";
  });
}

function addPublicPost(event) {
  const p = event.payload;
  if (!$("public-feed") || !publicChannels.some((c) => c.id === p.channel)) return;
  const item = publicPost(event, teams, { control: true });
  if (publicChannels.length > 1) item.querySelector(".post-head").append(" ", el("span", { class: "badge" }, channelNames[p.channel] || p.channel));
  insertBySeq($("public-feed"), item, event.seq, true);
  $("public-empty").hidden = true;
}

renderPresence();
renderEscalation();
import("./beliefs.js").then((m) => m.bindConsole(client)); // issue 14: each team's picture beside the truth
client.connect();
