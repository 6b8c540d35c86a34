// AI seats on the console (issue 15, docs/ai-seats.md): seat a model or a scripted bot, see what each
// seat did (marked with its model), pause it, take it over (this browser plays the seat in the room
// page) or hand it to a person (the seat is freed; the team's join code is shown). Polls the API.
import { el } from "./live.js";

const root = document.getElementById("ai-seats");
const session = root.dataset.session;
const token = document.getElementById("app")?.dataset.token || "";
const script = JSON.parse(document.getElementById("script-data")?.textContent || "{}");
const base = `/api/sessions/${encodeURIComponent(session)}/ai`;
const $ = (id) => document.getElementById(id);
const LABELS = { running: "playing", paused: "paused", taken_over: "taken over", handed_over: "handed to a person",
  out_of_tokens: "out of tokens", ended: "ended" };

async function call(path, body) {
  const response = await fetch(base + path, {
    method: body ? "POST" : "GET",
    headers: { "Content-Type": "application/json", ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    body: body ? JSON.stringify(body) : undefined,
    credentials: "same-origin",
  });
  const data = await response.json().catch(() => ({ ok: false, error: { message: `HTTP ${response.status}` } }));
  if (!data.ok) throw new Error(data.error?.message || `HTTP ${response.status}`);
  return data;
}

function seatOptions() {
  const select = $("ai-seat");
  for (const team of script.teams || []) {
    const group = el("optgroup", { label: team.name });
    for (const p of team.positions) group.append(el("option", { value: `${team.id}/${p.id}` }, p.title));
    select.append(group);
  }
}

function describe(action) {
  const what = action.command === "relay" ? `relay ${action.action} #${action.message}`
    : action.command === "write_relay_note" ? `note to ${action.to} on ${action.channel}`
    : action.command === "send_message" ? `message on ${action.channel}`
    : action.command === "ack_inject" ? `acknowledged ${action.inject}`
    : action.command === "decide" ? `decided ${action.inject}: ${action.option}` : action.command;
  return `#${action.seq} ${what}${action.text ? `: ${action.text}` : ""}`;
}

function seatItem(seat) {
  const buttons = [];
  const act = (label, action) => {
    const b = el("button", { type: "button", class: "secondary small", "data-ai-action": action }, label);
    b.addEventListener("click", async () => {
      try {
        const done = await call(`/${seat.participant}`, { action });
        if (done.room) window.open(done.room, "_blank");
        if (done.code) $("ai-said").textContent = `Seat freed: the person joins with code ${done.code}.`;
      } catch (err) { $("ai-said").textContent = err.message; }
      refresh();
    });
    buttons.push(b);
  };
  if (seat.status === "running") act("Pause", "pause");
  if (["paused", "taken_over", "out_of_tokens"].includes(seat.status)) act("Resume", "resume");
  if (seat.status !== "handed_over") { act("Take over", "take_over"); act("Hand to a person", "hand_over"); }
  const counts = `${seat.actions} actions · ${seat.refused} refused · ${seat.dropped} dropped · ${seat.failures} endpoint failures · ${seat.tokens}/${seat.seat_tokens} tokens`;
  const recent = el("ol", { class: "notes small", "aria-label": `Latest actions of ${seat.name}` },
    ...seat.recent.slice().reverse().map((a) => el("li", { dir: "auto", "data-ai-seq": a.seq },
      el("span", { class: "badge" }, seat.model), " ", describe(a))));
  return el("li", { "data-ai-seat": seat.participant },
    el("strong", { dir: "auto" }, seat.name), " ", el("span", { class: "badge" }, seat.model), " ",
    el("span", { class: `badge ${seat.status === "running" ? "ok" : "held"}` }, LABELS[seat.status] || seat.status),
    el("div", { class: "muted" }, counts), seat.problem ? el("div", { class: "muted", role: "status" }, seat.problem) : "",
    el("div", { class: "inline" }, ...buttons), recent);
}

async function refresh() {
  let data;
  try { data = await call(""); } catch (err) { $("ai-endpoint").textContent = `AI seats: ${err.message}`; return; }
  $("ai-endpoint").textContent = data.enabled
    ? `Model: ${data.model} · session tokens ${data.budget.spent}/${data.budget.limit}`
    : "No model endpoint is set (AI_BASE_URL, AI_MODEL): scripted bots only.";
  $("ai-add").hidden = false;
  $("ai-told").checked = data.told;
  $("ai-list").replaceChildren(...data.seats.map(seatItem));
  remark(data.seats);
}

$("ai-told").addEventListener("change", async (e) => {
  try { await call("/settings", { told: e.target.checked }); } catch (err) { $("ai-said").textContent = err.message; }
});
$("ai-add").addEventListener("submit", async (e) => {
  e.preventDefault();
  const [team, position] = $("ai-seat").value.split("/");
  const relay_actions = [...document.querySelectorAll("input[name=ai-relay]:checked")].map((x) => x.value);
  try {
    const done = await call("", { team, position, kind: $("ai-kind").value, name: $("ai-name").value, relay_actions });
    $("ai-said").textContent = `${done.seat.name} seated.`;
  } catch (err) { $("ai-said").textContent = err.message; }
  refresh();
});

// Players may not be told which seats are AI (then the seat has a plain name): control still sees
// every entry of the console's feed by such a seat marked with the model's name.
let unmarked = [];  // [name, model] of the AI seats whose name does not say so
function mark(item) {
  const title = item.querySelector("strong");
  if (!title || item.querySelector(".ai-mark")) return;
  const found = unmarked.find(([name]) => title.textContent.includes(name));
  if (found) title.after(" ", el("span", { class: "badge ai-mark" }, `AI: ${found[1]}`));
}
const feed = document.getElementById("feed");
if (feed) {
  new MutationObserver((changes) => {
    for (const change of changes) for (const node of change.addedNodes) if (node.nodeType === 1) mark(node);
  }).observe(feed, { childList: true });
}
function remark(seats) {
  unmarked = seats.filter((s) => !s.name.includes(s.model)).map((s) => [s.name, s.model]);
  if (feed && unmarked.length) feed.querySelectorAll(":scope > li").forEach(mark);
}

seatOptions();
refresh();
setInterval(refresh, 2000);
