// The set-up page: who joins, in which position, and whether they are connected, as it happens.
import { PARTICIPANT_JOINED } from "./events.js";
import { LiveClient, appData, el, jsonData } from "./live.js";

const app = appData();
const client = new LiveClient({ token: app.token, session: app.session, role: "control" });
const rows = document.getElementById("people");
const script = jsonData("script-data");
const teams = Object.fromEntries(script.teams.map((t) => [t.id, t.name]));
const positions = Object.fromEntries(script.teams.flatMap((t) => t.positions.map((p) => [p.id, p.title])));

function row(id) {
  return rows.querySelector(`tr[data-participant="${CSS.escape(String(id))}"]`);
}

client.on("state", (state) => {
  document.getElementById("status").textContent = state.clock.status;
});

client.on("event", (event) => {
  if (event.type !== PARTICIPANT_JOINED || row(event.payload.participant)) return;
  const p = event.payload;
  rows.append(el("tr", { "data-participant": p.participant },
    el("td", { dir: "auto" }, p.name),
    el("td", { dir: "auto" }, p.kind === "observer" ? "Observer" : teams[p.team] || p.team),
    el("td", { dir: "auto" }, p.kind === "observer" ? `watches ${(p.teams || []).map((t) => teams[t] || t).join(", ")}` : positions[p.position] || p.position),
    el("td", {}, el("span", { class: "badge offline", "data-presence": "" }, "joined"))));
  document.getElementById("nobody").hidden = true;
});

client.on("presence", (data) => {
  const found = row(data.participant);
  const badge = found && found.querySelector("[data-presence]");
  if (!badge) return;
  badge.textContent = data.online ? "online" : "offline";
  badge.className = `badge ${data.online ? "online" : "offline"}`;
});

client.connect();
