// The set-up page: who joins, in which position, and whether they are connected, as it happens.
import { PARTICIPANT_JOINED, PARTICIPANT_REMOVED } from "./events.js";
import { LiveClient, appData, el, jsonData, plainRefusal } from "./live.js";

const app = appData();
const client = new LiveClient({ token: app.token, session: app.session, role: "control" });
const rows = document.getElementById("people");
const script = jsonData("script-data");
const teams = Object.fromEntries(script.teams.map((t) => [t.id, t.name]));
const positions = Object.fromEntries(script.teams.flatMap((t) => t.positions.map((p) => [p.id, p.title])));

function row(id) {
  return rows.querySelector(`tr[data-participant="${CSS.escape(String(id))}"]`);
}

// Who is connected now, on any worker (the sync's state), then each change as it happens: the
// same "online" the console shows.
function showPresence(tr, online) {
  const badge = tr && tr.querySelector("[data-presence]");
  if (!badge) return;
  badge.textContent = online ? "online" : "offline";
  badge.className = `badge ${online ? "online" : "offline"}`;
}
client.on("state", (state) => {
  document.getElementById("status").textContent = state.clock.status;
  if (Array.isArray(state.presence)) {
    const online = new Set(state.presence.map(String));
    for (const tr of rows.querySelectorAll("tr[data-participant]")) showPresence(tr, online.has(tr.dataset.participant));
  }
});

// Move a player to another seat, or remove someone (their token stops working at once).
async function seatCall(method, path, body) {
  const error = document.getElementById("seat-error");
  error.hidden = true;
  const response = await fetch(`/api/sessions/${encodeURIComponent(app.session)}/participants/${path}`, {
    method,
    headers: { Authorization: `Bearer ${app.token}`, "Content-Type": "application/json" },
    body: body ? JSON.stringify(body) : undefined,
  });
  const answer = await response.json().catch(() => ({ ok: false, error: { message: `${response.status}` } }));
  if (!answer.ok) {
    error.textContent = plainRefusal("", answer.error || { message: "The server refused this." });
    error.hidden = false;
  }
}

function seatControls(tr) {
  const id = tr.dataset.participant;
  const name = tr.dataset.name || "";
  const cell = tr.querySelector("[data-seat-controls]");
  if (!cell || cell.childElementCount) return;
  if (tr.dataset.kind === "player") {
    const choose = el("select", { "aria-label": `Move ${name} to` }, el("option", { value: "" }, "Move to…"));
    for (const team of script.teams) {
      const group = el("optgroup", { label: team.name });
      for (const p of team.positions) group.append(el("option", { value: `${team.id}/${p.id}` }, p.title));
      choose.append(group);
    }
    choose.addEventListener("change", () => {
      const [team, position] = choose.value.split("/");
      if (team) seatCall("POST", `${id}/seat`, { team, position });
      choose.value = "";
    });
    cell.append(choose, " ");
  }
  const remove = el("button", { type: "button", class: "secondary small" }, "Remove");
  remove.setAttribute("aria-label", `Remove ${name}`);
  remove.addEventListener("click", () => {
    if (window.confirm(`Remove ${name} from this session? Their connection closes at once.`)) seatCall("DELETE", id);
  });
  cell.append(remove);
}

client.on("event", (event) => {
  const p = event.payload;
  if (event.type === PARTICIPANT_REMOVED) {
    const gone = row(p.participant);
    if (gone) gone.remove();
    document.getElementById("nobody").hidden = rows.childElementCount > 0;
    return;
  }
  if (event.type !== PARTICIPANT_JOINED || row(p.participant)) return;
  const tr = el("tr", { "data-participant": p.participant, "data-kind": p.kind, "data-name": p.name },
    el("td", { dir: "auto" }, p.name),
    el("td", { dir: "auto" }, p.kind === "observer" ? "Observer" : teams[p.team] || p.team),
    el("td", { dir: "auto" }, p.kind === "observer" ? `watches ${(p.teams || []).map((t) => teams[t] || t).join(", ")}` : positions[p.position] || p.position),
    el("td", {}, el("span", { class: "badge offline", "data-presence": "" }, "offline")),
    el("td", { "data-seat-controls": "" }));
  rows.append(tr);
  seatControls(tr);
  if (pending.has(String(p.participant))) showPresence(tr, pending.get(String(p.participant)));
  document.getElementById("nobody").hidden = true;
});

for (const tr of rows.querySelectorAll("tr[data-participant]")) seatControls(tr);

const pending = new Map(); // presence heard before its participant_joined
client.on("presence", (data) => {
  const found = row(data.participant);
  if (!found) pending.set(String(data.participant), data.online);
  showPresence(found, data.online);
});

client.connect();
