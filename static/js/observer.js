// An observer's page: read-only feeds of the teams watched, and the observation form.
import {
  ExerciseClock, LiveClient, announce, appData, bindClock, bindConnection, bindRefusals, el, insertBySeq, jsonData,
} from "./live.js";
import {
  CLOCK_EVENTS, CLOCK_RESUMED, CLOCK_STARTED, INJECT_RELEASED, OBSERVATION, SESSION_ENDED, SPEED_CHANGED,
} from "./events.js";
import { formatClock } from "./times.js";
import { attachmentList, describe, feedItem, filterFeed, teamLabel } from "./views.js";
import { bindCounts } from "./counts.js";

const app = appData();
const script = jsonData("script-data");
const client = new LiveClient({ token: app.token, session: app.session, role: "observer" });
const clock = new ExerciseClock();
bindClock(clock);
bindConnection(client);
bindRefusals(client);
bindCounts();

const teams = Object.fromEntries(script.teams.map((t) => [t.id, t.name]));
const channelNames = Object.fromEntries(script.channels.map((c) => [c.id, c.name]));
const moveNames = Object.fromEntries((script.moves || []).map((m) => [m.id, m.title]));
const objectives = Object.fromEntries((script.objectives || []).map((o) => [o.id, o.text]));
const objectiveText = (id) => {
  const text = objectives[id] || id;
  return text.length > 60 ? `${text.slice(0, 59)}…` : text;
};
const injectTitles = Object.fromEntries((script.msel || []).map((d) => [d.inject, d.title]));
const ctx = { teams, channelNames, moveNames, objectiveText, injectTitle: (id) => injectTitles[id] || id };
const $ = (id) => document.getElementById(id);
const feed = $("feed");
const SKIP = new Set([CLOCK_STARTED, CLOCK_RESUMED, SPEED_CHANGED]);

client.on("prepare", (state) => {
  const select = $("feed-channel");
  if (select.options.length > 2) return;
  for (const c of state.channels) select.append(el("option", { value: c.id }, c.name));
  select.append(el("option", { value: "team" }, "Team chats"));
});
client.on("state", (state) => {
  clock.fromState(state.clock);
  if (state.clock.status === "ended") $("ended").hidden = false;
});

const refilter = () => filterFeed(feed, $("feed-team").value, $("feed-channel").value);
$("feed-team").addEventListener("change", refilter);
$("feed-channel").addEventListener("change", refilter);

client.on("event", (event, { live }) => {
  if (CLOCK_EVENTS.has(event.type)) clock.apply(event);
  if (event.type === SESSION_ENDED) $("ended").hidden = false;
  if (SKIP.has(event.type)) return;
  if (event.type === OBSERVATION) {
    recorded(event.seq, event.t, event.payload);
    return;
  }
  const info = describe(event, ctx);
  const item = feedItem(event, info);
  if (event.type === INJECT_RELEASED) {
    injectTitles[event.payload.inject] = event.payload.title;
    const body = el("div", { class: "body prose small", dir: "auto" });
    body.innerHTML = event.payload.body_html || ""; // author Markdown, made safe by the server
    item.append(body);
    const files = attachmentList(app.session, event.payload.attachments || []);
    if (files) item.append(files);
    if (live) announce(`New inject: ${event.payload.title}`);
  }
  insertBySeq(feed, item, event.seq, true);
  filterFeed({ children: [item] }, $("feed-team").value, $("feed-channel").value);
});

$("observe").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const rating = document.querySelector('input[name="rating"]:checked');
  if (!rating) return;
  const payload = { rating: rating.value, text: $("obs-text").value };
  if ($("obs-objective").value) payload.objective = $("obs-objective").value;
  if ($("obs-team").value) payload.team = $("obs-team").value;
  const finding = document.querySelector('input[name="finding"]:checked');
  if (finding && finding.value) payload.finding = finding.value;
  const answer = await client.command("observe", payload);
  if (!answer.ok) return;
  recorded(answer.seq, clock.elapsed(), payload);
  $("obs-text").value = "";
  document.querySelector('input[name="finding"][value=""]').checked = true;
  announce("Observation recorded");
});

// One's own observations: shown when recorded, and from the log after a reload.
function recorded(seq, t, p) {
  const list = $("observations");
  if (list.querySelector(`[data-seq="${seq}"]`)) return;
  insertBySeq(list, el("li", { dir: "auto" },
    el("span", { class: "muted small" }, `${formatClock(t)} · ${p.rating}${p.finding ? ` · ${p.finding === "strength" ? "strength" : "area for improvement"}` : ""}${p.objective ? ` · ${objectiveText(p.objective)}` : ""}${p.team ? ` · ${teamLabel(teams, p.team)}` : ""} `),
    p.text), seq, true);
}

client.connect();
