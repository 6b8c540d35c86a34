// A player's team room: the inject inbox, the channels as tabs, the relay desk of an intermediary.
import {
  ExerciseClock, LiveClient, announce, appData, bindClock, bindConnection, bindRefusals, el, insertBySeq,
} from "./live.js";
import {
  CHANNEL_CLEARED, CHANNEL_JAMMED, CLOCK_EVENTS, DECISION_MADE, INJECT_ACKNOWLEDGED, INJECT_RELEASED, MESSAGE,
  MESSAGE_DELIVERED, MESSAGE_JAMMED, MESSAGE_READ_BACK, MESSAGE_RELAYED, MESSAGE_SENT, RELAY_NOTE, SESSION_ENDED,
} from "./events.js";
import { CHANNEL_CLOSED, CHANNEL_OPENED, MOVE_ENDED, MOVE_STARTED } from "./events.js";
import { formatClock, formatCountdown, formatScenarioClock } from "./times.js";
import { attachmentList, bindTabs, publicPost, teamLabel } from "./views.js";
import { PERSONA_POSTED } from "./events.js";

const app = appData();
const me = { team: app.team, position: app.position, participant: Number(app.participant) };
const client = new LiveClient({ token: app.token, session: app.session, role: "player" });
const clock = new ExerciseClock();
bindClock(clock);
bindConnection(client);
bindRefusals(client);

const inbox = document.getElementById("inbox");
const tabsEl = document.getElementById("tabs");
const panelsEl = document.getElementById("tabpanels");
const RELAY_TAB = "relay-desk";

let teams = {}; // id -> name
let positions = {}; // id -> title (my team)
let ended = false;
const injects = new Map(); // inject id -> view
const messages = new Map(); // message seq -> view
const channels = new Map(); // channel id -> view
let relayDesk = null;

const readKey = `tabletop:${app.session}:${app.participant}:read`;
const read = new Set(JSON.parse(localStorage.getItem(readKey) || "[]"));
const tabKey = `tabletop:${app.session}:${app.participant}:tab`;
let tabs = null;

// ------------------------------------------------------------------ structure
client.on("prepare", (state) => {
  clock.moves = state.clock.moves || []; // for the move dividers of the events replayed before the state
  teams = Object.fromEntries(state.teams.map((t) => [t.id, t.name]));
  positions = Object.fromEntries((state.positions || []).map((p) => [p.id, p.title]));
  if (!tabs) buildTabs(state.channels);
});

client.on("state", (state) => {
  clock.fromState(state.clock);
  for (const def of state.channels) {
    const view = channels.get(def.id);
    if (view) setWritable(view, def);
  }
  if (state.clock.status === "ended") showEnded();
});

function buildTabs(defs) {
  const mine = defs.filter((d) => d.relays_for_me);
  if (mine.length) relayDesk = buildRelayDesk(mine);
  for (const def of defs) channels.set(def.id, buildChannel(def));
  for (const view of channels.values()) if (view.def.kind === "broadcast") asFeed(view);
  const order = [...(relayDesk ? [relayDesk] : []), ...channels.values()];
  tabs = bindTabs(tabsEl, order, (view) => {
    view.unread = 0;
    showCount(view);
    sessionStorage.setItem(tabKey, view.id);
  });
  for (const view of channels.values()) markClosed(view);
  tabs.select(sessionStorage.getItem(tabKey) || order[0].id, false);
}

// A closed channel (format 2: `initially: closed`, or closed in play) is marked on its tab; it opens
// on screen when its channel_opened arrives (and the state, asked for again, says who may write).
function markClosed(view) {
  if (!view.tab) return;
  const closed = view.def.open === false;
  if (!view.closedBadge) {
    view.closedBadge = el("span", { class: "badge closed", "data-closed": "" }, "closed");
    view.tab.append(" ", view.closedBadge);
  }
  view.closedBadge.hidden = !closed;
  view.panel.classList.toggle("is-closed", closed);
}

function channelChanged(event, live) {
  const p = event.payload;
  const view = channels.get(p.channel);
  const open = event.type === CHANNEL_OPENED;
  systemNote(p.channel, event.seq, `${formatClock(event.t)} · The channel is ${open ? "open" : "closed"}.`);
  if (!view || !live) return;
  const def = open ? { ...view.def, open } : { ...view.def, open, write: false, reason: "the channel is closed" };
  setWritable(view, def);
  announce(`${view.def.name} is ${open ? "open" : "closed"}`);
  client.refreshSoon();
}

// Moves (format 2): a divider in the inbox (newest first) where each move begins, with its scenario date.
function moveDivider(event, live) {
  const p = event.payload;
  const move = clock.moves.find((m) => m.id === p.move);
  const date = move ? formatScenarioClock(move.scenario_start, move.at, move.time_scale) : "";
  insertBySeq(inbox, el("li", { class: "move-divider", "data-move-divider": p.move },
    el("span", { dir: "auto" }, el("strong", {}, `${p.title} begins`), date ? ` · ${date}` : "")), event.seq, true);
  if (live) announce(`${p.title} has started${date ? `: ${date}` : ""}`);
}

function describeChannel(def) {
  if (def.kind === "team") return `Your team only (${teams[me.team] || me.team}).`;
  const members = def.members.map((m) => teams[m] || m).join(" and ");
  if (def.kind === "relay") {
    const via = def.relay === "control" ? "exercise control" : teams[def.relay] || def.relay;
    const delay = def.delay ? `, about ${Math.round(def.delay / 60)} min a leg` : "";
    return `Relayed between ${members} through ${via}${delay}: nothing passes directly.`;
  }
  if (def.kind === "broadcast") return "Public: every team reads what is said here.";
  return `Direct between ${members}.`;
}

function buildChannel(def) {
  const id = def.id;
  const list = el("ol", { class: "messages", "aria-label": `Messages on ${def.name}` });
  const textarea = el("textarea", { id: `say-${id}`, dir: "auto", rows: 2, maxlength: 4000, name: "text" });
  const why = el("p", { class: "why", id: `why-${id}`, hidden: true });
  const button = el("button", { type: "submit" }, "Send");
  const handling = handlingFields(def);
  const form = el(
    "form", { class: "composer" },
    el("label", { for: `say-${id}` }, `Write on ${def.name}`),
    textarea, why, handling ? handling.box : null,
    el("div", { class: "inline" }, button, el("span", { class: "muted small" }, "Enter sends, Shift+Enter for a new line")),
  );
  const panel = el(
    "section", { role: "tabpanel", id: `panel-${id}`, "aria-labelledby": `tab-${id}`, tabindex: "0" },
    el("p", { class: "muted small", dir: "auto" }, describeChannel(def)),
    el("p", { class: "muted small", "data-empty": "" }, "No messages yet."),
    list, form,
  );
  const view = { id, def, label: def.name, list, textarea, button, why, form, panel, unread: 0, handling };
  form.addEventListener("submit", (ev) => { ev.preventDefault(); send(view); });
  textarea.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) { ev.preventDefault(); send(view); }
  });
  panelsEl.append(panel);
  setWritable(view, def);
  return view;
}

function setWritable(view, def) {
  view.def = def;
  markClosed(view);
  const reason = ended ? "the exercise has ended" : def.write ? null : def.reason;
  view.textarea.disabled = Boolean(reason);
  view.button.disabled = Boolean(reason);
  view.why.hidden = !reason;
  view.why.textContent = reason ? `You cannot write here: ${reason}.` : "";
  if (view.handling) view.handling.box.hidden = Boolean(reason);
  if (reason) view.textarea.setAttribute("aria-describedby", view.why.id);
  else view.textarea.removeAttribute("aria-describedby");
}

async function send(view) {
  const text = view.textarea.value.trim();
  if (!text || view.button.disabled) return;
  view.button.disabled = true;
  const answer = await client.command("send_message", { channel: view.id, text, ...handlingValues(view.handling) });
  view.button.disabled = false;
  if (answer.ok) {
    view.textarea.value = "";
    clearHandling(view.handling);
    markMine(answer.seq);
  }
  view.textarea.focus();
}

function showCount(view) {
  if (!view.count) return;
  view.count.textContent = String(view.unread || "");
  view.count.hidden = !view.unread;
  view.count.setAttribute("aria-label", `${view.unread} unread`);
}

function bump(view, fresh) {
  if (!fresh || !tabs || tabs.current === view.id) return;
  view.unread = (view.unread || 0) + 1;
  showCount(view);
}

// ------------------------------------------------------------------ messages
function senderLabel(p) {
  if (p.from_team === "control") return `Exercise control${p.name ? ` (${p.name})` : ""}`;
  if (p.from_team === me.team) {
    const role = positions[p.from_position];
    return `${p.name || teamLabel(teams, p.from_team)}${role ? `, ${role}` : ""}`;
  }
  return `${teamLabel(teams, p.from_team)}${p.name ? ` (${p.name})` : ""}`;
}

function addMessage(channelId, seq, event, { mine, status, statusClass, text, fresh, from }) {
  const view = channels.get(channelId);
  if (!view) return null;
  if (view.feed) return addPost(view, seq, event, { mine, status, statusClass, fresh });
  const badge = el("span", { class: `badge ${statusClass || ""}`, hidden: !status }, status || "");
  const node = el(
    "li", { class: `msg${mine ? " mine" : ""}` },
    el("div", { class: "from", dir: "auto" }, mine ? `You (${senderLabel(event.payload)})` : from ?? senderLabel(event.payload)),
    el("div", { class: "text", dir: "auto" }, text ?? event.payload.text ?? ""),
    el("div", { class: "meta" }, formatClock(event.t), " ", badge),
  );
  insertBySeq(view.list, node, seq);
  view.panel.querySelector("[data-empty]").hidden = true;
  view.list.scrollTop = view.list.scrollHeight;
  if (!mine) bump(view, fresh);
  const entry = { node, badge, view, mine };
  messages.set(seq, entry);
  if (!mine && mySeqs.has(seq)) markMine(seq);
  return entry;
}

// Live events do not say which seat sent a message (a team room hears it as one), so the
// sender's page marks its own by the sequence number its command was answered with.
const mySeqs = new Set();
function markMine(seq) {
  if (!seq) return;
  mySeqs.add(seq);
  const entry = messages.get(seq);
  if (!entry || entry.mine) return;
  entry.mine = true;
  entry.node.classList.add("mine");
  const from = entry.node.querySelector(".from");
  from.textContent = `You (${from.textContent})`;
}

function setStatus(seq, text, cls) {
  const entry = messages.get(seq);
  if (!entry) return;
  entry.badge.textContent = text;
  entry.badge.className = `badge ${cls}`;
  entry.badge.hidden = false;
}

function systemNote(channelId, seq, text) {
  const view = channels.get(channelId);
  if (!view) return;
  insertBySeq(view.list, el("li", { class: "msg muted small", dir: "auto" }, text), seq);
}

function relayName(relay) {
  return relay === "control" ? null : teams[relay] || relay;
}

// ------------------------------------------------------------------ relay desk
function buildRelayDesk(defs) {
  const queue = el("ol", { class: "inbox-list", "aria-label": "Messages waiting for you" });
  const done = el("ol", { class: "messages", "aria-label": "Messages you have handled" });
  const empty = el("p", { class: "muted small" }, "Nothing is waiting.");
  const names = defs.map((d) => d.name).join(", ");
  const notes = el("ol", { class: "messages", "aria-label": "Notes you have written" });
  const composer = noteComposer(defs);
  const panel = el(
    "section", { role: "tabpanel", id: `panel-${RELAY_TAB}`, "aria-labelledby": `tab-${RELAY_TAB}`, tabindex: "0" },
    el("p", { class: "muted small", dir: "auto" },
      `You relay ${names}. Each message reaches you first: forward it word for word, edit it, hold it or decline it.`),
    empty, queue,
    el("h3", {}, "Notes to one side"),
    el("p", { class: "muted small" }, "A note goes to one side only, never to the other: confirm wording, ask for a read-back, chase a reply, say what you changed."),
    composer.form, notes,
    el("h3", {}, "Handled"), done,
  );
  panelsEl.append(panel);
  return { id: RELAY_TAB, label: "Relay desk", panel, queue, done, empty, notes, composer, items: new Map(), unread: 0, counter: true };
}

function addRelayItem(event, fresh) {
  const p = event.payload;
  const to = (p.to || []).map((t) => teams[t] || t).join(", ");
  const status = el("span", { class: "badge with-relay" }, "waiting");
  const edit = el("textarea", { dir: "auto", rows: 3, id: `edit-${event.seq}`, maxlength: 4000 }, p.text);
  const editForm = el(
    "form", { class: "composer", hidden: true },
    el("label", { for: `edit-${event.seq}` }, "Edited text (what the other side will read)"), edit,
    el("div", { class: "inline" },
      el("button", { type: "submit" }, "Forward edited text"),
      el("button", { type: "button", class: "secondary", onclick: () => { editForm.hidden = true; } }, "Cancel")),
  );
  const readback = el("input", { type: "checkbox", id: `relay-rb-${event.seq}`, checked: Boolean(p.readback), disabled: Boolean(p.readback) });
  const act = (action, text) => async () => {
    for (const b of node.querySelectorAll("button")) b.disabled = true;
    const payload = text === undefined ? { message: event.seq, action } : { message: event.seq, action, text };
    if ((action === "forward" || action === "edit") && readback.checked) payload.readback = true;
    const answer = await client.command("relay", payload);
    for (const b of node.querySelectorAll("button")) b.disabled = ended;
    return answer;
  };
  editForm.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const text = edit.value.trim();
    if (text) await act("edit", text)();
  });
  const holdButton = el("button", { type: "button", class: "secondary", onclick: act("hold") }, "Hold");
  const node = el(
    "li", { class: "relay-item" },
    el("div", { class: "from", dir: "auto" }, `From ${senderLabel(p)} on ${channels.get(p.channel)?.def.name || p.channel}, to ${to}`),
    el("div", { class: "text", dir: "auto" }, p.text),
    p.instructions ? el("div", { class: "instructions small", dir: "auto" },
      `Instructions from ${teamLabel(teams, p.from_team)}, for you alone: ${p.instructions}`) : null,
    el("div", { class: "meta" }, formatClock(event.t), " ", status),
    el("label", { class: "choice small" }, readback,
      el("span", {}, p.readback ? "The sender asks for a read-back" : "Ask the receiver to read it back")),
    el("div", { class: "actions" },
      el("button", { type: "button", onclick: act("forward") }, "Forward verbatim"),
      el("button", { type: "button", class: "secondary", onclick: () => { editForm.hidden = false; edit.focus(); } }, "Edit and forward"),
      holdButton,
      el("button", { type: "button", class: "danger", onclick: act("decline") }, "Decline"),
      el("button", { type: "button", class: "secondary", onclick: () => relayDesk.composer.about(event.seq, p) }, "Write a note about it")),
    editForm,
  );
  insertBySeq(relayDesk.queue, node, event.seq);
  relayDesk.items.set(event.seq, { node, status, holdButton });
  relayDesk.empty.hidden = true;
  updateRelayCount(fresh);
  if (fresh) announce(`New message on the relay desk from ${teamLabel(teams, p.from_team)}`);
}

function updateRelayCount(fresh) {
  const waiting = relayDesk.items.size;
  relayDesk.unread = waiting;
  showCount(relayDesk);
  relayDesk.empty.hidden = waiting > 0;
  void fresh;
}

function relayHandled(event) {
  const p = event.payload;
  const item = relayDesk && relayDesk.items.get(p.message);
  if (!item) return;
  if (p.action === "hold") {
    item.status.textContent = "held";
    item.status.className = "badge held";
    item.holdButton.hidden = true;
    return;
  }
  relayDesk.items.delete(p.message);
  item.node.remove();
  const words = { forward: "Forwarded verbatim", edit: "Forwarded edited", decline: "Declined" }[p.action];
  const done = el(
    "li", { class: "msg" },
    el("div", { class: "from", dir: "auto" }, `${words} (${p.by || "you"}), from ${teamLabel(teams, p.from_team)}`),
    p.text ? el("div", { class: "text", dir: "auto" }, p.text) : null,
    el("div", { class: "meta" }, formatClock(event.t), p.readback ? " · read-back asked" : ""),
  );
  handled.set(p.message, done);
  insertBySeq(relayDesk.done, done, event.seq, true);
  updateRelayCount(false);
}

// ------------------------------------------------------------------ the intermediary's voice
// Notes to one half of a relay channel, handling instructions for the intermediary, read-backs.
// What each side is told (the origin of a delivered message, the fate of a sent one) is decided by
// the server from the channel's receiver_sees and sender_learns: this page shows what it is sent.
const delivery = new Map(); // message_sent seq -> entry of the delivered message (receiving side)
const readBackForms = new Map(); // message_sent seq -> read-back form (receiving side)
const handled = new Map(); // message_sent seq -> its line in the relay desk's handled list

function viaName(def) {
  if (!def || def.relay === "control") return "the intermediary";
  return teams[def.relay] || def.relay;
}

function handlingFields(def) {
  if (def.kind !== "relay" || !(def.members || []).includes(me.team)) return null;
  const via = viaName(def);
  const instructions = el("textarea", { id: `instr-${def.id}`, dir: "auto", rows: 2, maxlength: 4000, name: "instructions" });
  const readback = el("input", { type: "checkbox", id: `rb-${def.id}`, name: "readback" });
  const box = el("details", { class: "handling small" },
    el("summary", {}, `Instructions for ${via}, read-back`),
    el("label", { for: `instr-${def.id}` }, `Handling instructions for ${via} alone (never passed on)`),
    instructions,
    el("label", { class: "choice" }, readback, el("span", {}, "Ask the receiver to read it back")));
  return { box, instructions, readback };
}

function handlingValues(handling) {
  if (!handling) return {};
  const values = {};
  const text = handling.instructions.value.trim();
  if (text) values.instructions = text;
  if (handling.readback.checked) values.readback = true;
  return values;
}

function clearHandling(handling) {
  if (!handling) return;
  handling.instructions.value = "";
  handling.readback.checked = false;
  handling.box.open = false;
}

// A message on its way: the sender's room and the intermediary's show its instructions.
function showInstructions(event) {
  const p = event.payload;
  const entry = messages.get(event.seq);
  if (!entry) return;
  const via = relayName(p.relay) || "the intermediary";
  if (p.instructions) {
    const who = p.relay === me.team ? "Instructions for you alone" : `Your instructions for ${via} (not passed on)`;
    entry.node.append(el("div", { class: "instructions small", dir: "auto" }, `${who}: ${p.instructions}`));
  }
  if (p.readback) entry.node.append(el("div", { class: "small muted" }, "A read-back is asked for."));
}

// The sender is told its message was changed only where the script lets it know.
function toldChanged(event) {
  const p = event.payload;
  setStatus(p.message, "forwarded with changes", "with-relay");
  const entry = messages.get(p.message);
  if (entry && p.text) {
    entry.node.append(el("div", { class: "passed small", dir: "auto" }, `${relayName(p.relay) || "The intermediary"} passed on: ${p.text}`));
  }
}

function originLabel(p, def) {
  if (!p.from_team) return `Via ${viaName(def)}`;
  const team = teamLabel(teams, p.from_team);
  return p.from_title ? `${team}, ${p.from_title}, via ${viaName(def)}` : `${team} via ${viaName(def)}`;
}

function delivered(event, fresh) {
  const p = event.payload;
  const def = channels.get(p.channel)?.def;
  const relayed = Boolean(def && def.kind === "relay");
  if (p.from_team === me.team && (relayed || messages.has(p.message))) {
    setStatus(p.message, "delivered", "delivered"); // the sender learns that it arrived, not what arrived
    return;
  }
  if (relayed && def.relay === me.team) {
    setStatus(p.message, "delivered", "delivered");
    return;
  }
  const entry = addMessage(p.channel, event.seq, event, { mine: false, fresh, from: relayed ? originLabel(p, def) : undefined });
  if (!entry || !relayed) return;
  delivery.set(p.message, entry);
  if (p.readback) readBackForm(entry, p, def);
}

function readBackForm(entry, p, def) {
  const id = `readback-${p.message}`;
  const text = el("textarea", { id, dir: "auto", rows: 2, maxlength: 4000 });
  const button = el("button", { type: "submit", class: "small", disabled: ended }, "Send read-back");
  const form = el("form", { class: "readback", "data-readback": String(p.message) },
    el("label", { for: id }, `Read-back asked: write back what you understood (${viaName(def)} reads it)`),
    text, el("div", { class: "inline" }, button));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const value = text.value.trim();
    if (!value || button.disabled) return;
    button.disabled = true;
    const answer = await client.command("read_back", { message: p.message, text: value });
    if (!answer.ok) button.disabled = ended;
  });
  entry.node.append(form);
  readBackForms.set(p.message, { form, button });
}

function readBack(event, fresh) {
  const p = event.payload;
  const who = teamLabel(teams, p.team);
  if (p.team === me.team) {
    const line = el("div", { class: "readback-done small", dir: "auto" }, `Read back${p.name ? ` by ${p.name}` : ""}: ${p.text}`);
    const form = readBackForms.get(p.message);
    if (form) form.form.replaceWith(line);
    else delivery.get(p.message)?.node.append(line);
    readBackForms.delete(p.message);
    return;
  }
  if (p.sender === me.team) {
    setStatus(p.message, `read back by ${who}`, "delivered"); // that it was read back, never the text
    if (fresh) announce(`${who} read back your message`);
    return;
  }
  if (p.relay === me.team) {
    const text = `Read back by ${who}${p.name ? ` (${p.name})` : ""}: ${p.text}`;
    messages.get(p.message)?.node.append(el("div", { class: "readback-done small", dir: "auto" }, text));
    handled.get(p.message)?.append(el("div", { class: "readback-done small", dir: "auto" }, text));
    if (fresh) announce(`${who} read back a message`);
  }
}

function quote(seq) {
  const entry = seq ? messages.get(seq) || delivery.get(seq) : null;
  const text = entry ? entry.node.querySelector(".text")?.textContent || "" : "";
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}

function relayNote(event, fresh) {
  const p = event.payload;
  const def = channels.get(p.channel)?.def;
  const desk = p.relay === me.team;
  const by = p.relay === "control" ? "" : ` (${p.by})`;
  const title = desk ? `Your note to ${teamLabel(teams, p.to)}${by}` : `Note from ${viaName(def)}${by}, to your side only`;
  const about = quote(p.message);
  const node = el("li", { class: "msg relay-note", "data-note-to": p.to },
    el("div", { class: "from", dir: "auto" }, title),
    about ? el("div", { class: "small muted", dir: "auto" }, `About: ${about}`) : null,
    el("div", { class: "text", dir: "auto" }, p.text),
    el("div", { class: "meta" }, formatClock(event.t), " ", el("span", { class: "badge held" }, "note")));
  const view = channels.get(p.channel);
  if (view) {
    insertBySeq(view.list, node, event.seq);
    view.panel.querySelector("[data-empty]").hidden = true;
    view.list.scrollTop = view.list.scrollHeight;
    if (!desk) bump(view, fresh);
  }
  if (desk && relayDesk) insertBySeq(relayDesk.notes, node.cloneNode(true), event.seq, true);
  if (!desk && fresh) announce(`Note from ${viaName(def)} on ${def ? def.name : p.channel}`);
}

// The relay desk's composer of notes to one side of a channel: a button per side, named from the script.
function noteComposer(defs) {
  const text = el("textarea", { id: "note-text", dir: "auto", rows: 2, maxlength: 4000 });
  const channel = el("select", { id: "note-channel" }, ...defs.map((d) => el("option", { value: d.id }, d.name)));
  const channelField = el("div", { class: "field", hidden: defs.length < 2 }, el("label", { for: "note-channel" }, "On"), channel);
  const aboutLine = el("span", { class: "small muted", dir: "auto" });
  const clear = el("button", { type: "button", class: "secondary small" }, "Not about a message");
  const aboutBox = el("p", { class: "inline", hidden: true }, aboutLine, clear);
  const sides = el("div", { class: "inline" });
  const form = el("form", { class: "composer note-composer", "data-channel": defs[0].id },
    channelField, el("label", { for: "note-text" }, "Note to one side"), text, aboutBox, sides);
  const composer = { form, message: null, buttons: [] };
  const showSides = () => {
    const def = defs.find((d) => d.id === channel.value) || defs[0];
    form.dataset.channel = def.id;
    composer.buttons = def.members.map((team) =>
      el("button", { type: "submit", class: "small", value: team, "data-note-to": team, disabled: ended }, `Note to the ${teams[team] || team} side`));
    sides.replaceChildren(...composer.buttons);
  };
  composer.about = (seq, payload) => {
    composer.message = seq;
    aboutBox.hidden = seq === null;
    aboutLine.textContent = seq === null ? "" : `About the message from ${teamLabel(teams, payload.from_team)}: ${quote(seq)}`;
    if (seq !== null) {
      channel.value = payload.channel;
      showSides();
      tabs.select(RELAY_TAB, false);
      text.focus();
    }
  };
  channel.addEventListener("change", () => { composer.about(null); showSides(); });
  clear.addEventListener("click", () => composer.about(null));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const to = ev.submitter ? ev.submitter.value : "";
    const value = text.value.trim();
    if (!to || !value) return;
    for (const b of composer.buttons) b.disabled = true;
    const payload = { channel: form.dataset.channel, to, text: value };
    if (composer.message) payload.message = composer.message;
    const answer = await client.command("write_relay_note", payload);
    for (const b of composer.buttons) b.disabled = ended;
    if (answer.ok) {
      text.value = "";
      composer.about(null);
    }
  });
  showSides();
  return composer;
}

// ------------------------------------------------------------------ injects
function markRead(view) {
  if (!view.unread) return;
  view.unread = false;
  view.node.classList.remove("unread");
  view.newBadge.hidden = true;
  read.add(view.id);
  localStorage.setItem(readKey, JSON.stringify([...read]));
  updateInboxCount();
}

function updateInboxCount() {
  const count = [...injects.values()].filter((v) => v.unread).length;
  const node = document.getElementById("inbox-unread");
  node.textContent = String(count);
  node.hidden = count === 0;
  node.setAttribute("aria-label", `${count} unread`);
}

function addInject(event, { live }) {
  const p = event.payload;
  if (injects.has(p.inject)) return;
  const unread = !read.has(p.inject);
  const newBadge = el("span", { class: "badge new", hidden: !unread }, "New");
  const body = el("div", { class: "body prose", dir: "auto" });
  body.innerHTML = p.body_html || ""; // author Markdown, made safe by the server (never player text)
  const acks = el("span", { class: "small muted", dir: "auto" });
  const actions = el("div", { class: "actions" });
  const node = el(
    "article", { class: `inject${unread ? " unread" : ""}`, tabindex: "0", "aria-labelledby": `inj-${p.inject}`, "data-inject": p.inject },
    el("header", {},
      newBadge,
      el("span", { class: "meta" }, `${p.medium || "other"}${p.from ? ` · ${p.from}` : ""} · ${formatClock(event.t)}`),
      el("h3", { id: `inj-${p.inject}`, dir: "auto" }, p.title)),
    body,
    attachmentList(app.session, p.attachments || []),
    actions,
  );
  const view = { id: p.inject, node, newBadge, acks, actions, unread, payload: p, t: event.t, ackButton: null };
  if (p.ack) {
    view.ackButton = el("button", { type: "button", class: "small" }, "Acknowledge");
    view.ackButton.addEventListener("click", async () => {
      view.ackButton.disabled = true;
      const answer = await client.command("ack_inject", { inject: p.inject });
      if (!answer.ok) view.ackButton.disabled = false;
      markRead(view);
    });
    actions.append(view.ackButton);
  }
  actions.append(acks);
  if (p.decision) node.append(decisionForm(view, p));
  if (p.fiction) markFiction(node);
  node.addEventListener("focusin", () => markRead(view));
  node.addEventListener("click", () => markRead(view));
  insertBySeq(inbox, el("li", {}, node), event.seq, true);
  document.getElementById("inbox-empty").hidden = true;
  injects.set(p.inject, view);
  updateInboxCount();
  if (live) announce(`New inject: ${p.title}${p.from ? `, from ${p.from}` : ""}`);
}

function acknowledged(event) {
  const p = event.payload;
  const view = injects.get(p.inject);
  if (!view) return;
  view.ackNames = view.ackNames || [];
  view.ackNames.push(p.name + (positions[p.from_position] ? ` (${positions[p.from_position]})` : ""));
  view.acks.textContent = `Acknowledged by ${view.ackNames.join(", ")}`;
  if (p.participant === me.participant && view.ackButton) {
    view.ackButton.textContent = "Acknowledged";
    view.ackButton.disabled = true;
  }
}

function decisionForm(view, p) {
  const d = p.decision;
  const name = `decide-${p.inject}`;
  const allowed = !d.by.length || d.by.includes(me.position);
  const who = d.by.map((id) => positions[id] || id).join(" or ");
  const deadline = el("span", { class: "deadline" });
  const rationale = el("textarea", { id: `${name}-why`, dir: "auto", rows: 2, maxlength: 4000 });
  const submit = el("button", { type: "submit" }, "Decide");
  const options = d.options.map((o) =>
    el("label", { class: "choice" }, el("input", { type: "radio", name, value: o.id, required: true }), el("span", { dir: "auto" }, o.label)));
  const reason = el("p", { class: "reason", hidden: allowed }, allowed ? "" : `Only ${who} may take this decision.`);
  const fieldset = el("fieldset", { disabled: !allowed },
    el("legend", { dir: "auto" }, d.prompt), ...options,
    el("div", { class: "field" }, el("label", { for: `${name}-why` }, "Rationale"), rationale),
    submit);
  const form = el("form", { class: "decision", "aria-label": `Decision: ${d.prompt}` },
    d.deadline ? el("p", {}, "Deadline: ", deadline, d.default ? el("span", { class: "muted small" }, ` (then: ${labelOf(d, d.default)})`) : null) : null,
    reason, fieldset);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const chosen = form.querySelector(`input[name="${name}"]:checked`);
    if (!chosen) return;
    submit.disabled = true;
    const answer = await client.command("decide", { inject: p.inject, option: chosen.value, rationale: rationale.value });
    submit.disabled = false;
    markRead(view);
    void answer;
  });
  view.decision = { form, fieldset, deadline, deadlineT: d.deadline ? view.t + d.deadline : null, decided: false };
  return form;
}

function labelOf(d, option) {
  const found = d.options.find((o) => o.id === option);
  return found ? found.label : option;
}

function decided(event) {
  const p = event.payload;
  const view = injects.get(p.inject);
  if (!view || !view.decision) return;
  view.decision.decided = true;
  let text;
  if (p.lapsed) text = "The deadline passed with no decision.";
  else if (p.by_default) text = `The deadline passed: the default applies: ${p.label}.`;
  else text = `Decided: ${p.label}. By ${p.name}${positions[p.position] ? `, ${positions[p.position]}` : ""}.`;
  const result = el("div", { class: "decision-result", role: "status" },
    el("p", { dir: "auto" }, text), p.rationale ? el("p", { class: "small", dir: "auto" }, `Rationale: ${p.rationale}`) : null);
  view.decision.form.replaceWith(result);
}

function tickDeadlines() {
  for (const view of injects.values()) {
    const d = view.decision;
    if (!d || d.decided || d.deadlineT === null) continue;
    const left = d.deadlineT - clock.elapsed();
    d.deadline.textContent = left > 0 ? `${formatCountdown(left)} left${clock.status === "paused" ? " (clock paused)" : ""}` : "passed";
    d.deadline.classList.toggle("urgent", left < 60);
  }
}
window.setInterval(tickDeadlines, 250);

function showEnded() {
  if (ended) return;
  ended = true;
  document.getElementById("ended").hidden = false;
  for (const view of channels.values()) setWritable(view, view.def);
  for (const view of injects.values()) {
    if (view.ackButton) view.ackButton.disabled = true;
    if (view.decision) view.decision.fieldset.disabled = true;
  }
  if (relayDesk) for (const b of relayDesk.panel.querySelectorAll("button")) b.disabled = true;
  for (const form of readBackForms.values()) form.button.disabled = true;
}

// ------------------------------------------------------------------ events
client.on("event", (event, { live, fresh }) => {
  const p = event.payload;
  if (CLOCK_EVENTS.has(event.type)) clock.apply(event);
  switch (event.type) {
    case INJECT_RELEASED: addInject(event, { live }); break;
    case INJECT_ACKNOWLEDGED: acknowledged(event); break;
    case DECISION_MADE: decided(event); break;
    case MESSAGE: addMessage(p.channel, event.seq, event, { mine: p.participant === me.participant, fresh }); break;
    case MESSAGE_SENT:
      if (p.from_team === me.team) {
        const via = relayName(p.relay);
        addMessage(p.channel, event.seq, event, {
          mine: p.participant === me.participant, fresh,
          status: via ? `with ${via}` : "in transit", statusClass: "with-relay",
        });
      } else if (p.relay === me.team) {
        addMessage(p.channel, event.seq, event, { mine: false, fresh: false, status: "waiting for you", statusClass: "with-relay" });
        addRelayItem(event, fresh);
      }
      showInstructions(event);
      break;
    case MESSAGE_RELAYED: {
      const via = relayName(p.relay) || "the channel";
      const words = {
        forward: ["forwarded", "forwarded"], edit: ["forwarded", "forwarded"],
        hold: [`held by ${via}`, "held"], decline: [`declined by ${via}`, "declined"],
      }[p.action];
      if (p.relay === me.team) {
        const mineWords = { forward: "you forwarded it verbatim", edit: "you forwarded an edit", hold: "you hold it", decline: "you declined it" };
        setStatus(p.message, mineWords[p.action], words[1]);
        relayHandled(event);
      } else if (p.action === "edit" && p.edited) {
        toldChanged(event); // only where the channel's sender_learns lists forwarded_with_changes
      } else {
        setStatus(p.message, words[0], words[1]);
      }
      break;
    }
    case MESSAGE_DELIVERED: delivered(event, fresh); break;
    case RELAY_NOTE: relayNote(event, fresh); break;
    case MESSAGE_READ_BACK: readBack(event, fresh); break;
    case MESSAGE_JAMMED:
      addMessage(p.channel, event.seq, event, { mine: p.participant === me.participant, fresh, status: "not delivered: jammed", statusClass: "jammed" });
      break;
    case CHANNEL_JAMMED:
      systemNote(p.channel, event.seq, `${formatClock(event.t)} · The channel is jammed until ${formatClock(p.until)}.`);
      client.refreshSoon();
      break;
    case CHANNEL_CLEARED:
      systemNote(p.channel, event.seq, `${formatClock(event.t)} · The channel is clear again.`);
      client.refreshSoon();
      break;
    case CHANNEL_OPENED:
    case CHANNEL_CLOSED: channelChanged(event, live); break;
    case MOVE_STARTED: moveDivider(event, live); break;
    case MOVE_ENDED: if (live) announce("The clock has stopped for a plenary"); break;
    case SESSION_ENDED: showEnded(); break;
    case PERSONA_POSTED: {
      const view = channels.get(p.channel);
      if (view) addPost(view, event.seq, event, { mine: false, fresh });
      break;
    }
    default: break;
  }
});

// ------------------------------------------------------------------ the public feed, fiction
// A broadcast channel is shown as a feed of posts, newest first, the composer above it: teams'
// statements and the script's personas (control posts as them: nothing in what is sent says so).
function asFeed(view) {
  view.feed = true;
  view.list.className = "posts";
  view.list.setAttribute("aria-label", `Posts on ${view.def.name}, newest first`);
  view.form.querySelector("label").textContent = `Post on ${view.def.name} (every team reads it)`;
  view.button.textContent = "Post";
  view.panel.querySelector("[data-empty]").textContent = "No posts yet.";
  view.panel.insertBefore(view.form, view.list);
}

function addPost(view, seq, event, { mine, status, statusClass, fresh }) {
  const node = publicPost(event, teams);
  const badge = el("span", { class: `badge ${statusClass || ""}`, hidden: !status }, status || "");
  node.querySelector(".post-head").append(" ", badge);
  node.querySelector(".post-author").classList.add("from"); // markMine rewrites it for one's own posts
  if (mine) {
    node.classList.add("mine");
    const author = node.querySelector(".post-author");
    author.textContent = `You (${author.textContent})`;
  }
  insertBySeq(view.list, node, seq, true);
  view.panel.querySelector("[data-empty]").hidden = true;
  if (!mine) bump(view, fresh);
  const entry = { node, badge, view, mine };
  messages.set(seq, entry);
  if (!mine && mySeqs.has(seq)) markMine(seq);
  return entry;
}

// An inject the script marks as an exercise event (fiction) says so before anything else.
function markFiction(node) {
  node.classList.add("fiction");
  node.prepend(el("p", { class: "fiction-mark", role: "note" }, "Exercise event: invented for this exercise, not history"));
}

import("./beliefs.js").then((m) => m.bindRoom(client)); // issue 14: the team's assessment panel
client.connect();
