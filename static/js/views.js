// Pieces shared by the room, the console and the observer page: tabs, attachments, the feed.
import {
  CHANNEL_CLEARED, CHANNEL_JAMMED, CLOCK_PAUSED, CLOCK_RESUMED, CLOCK_STARTED, DECISION_MADE, ESCALATION_CHANGED,
  FEEDBACK, INJECT_ACKNOWLEDGED, INJECT_HELD, INJECT_MOVED, INJECT_RELEASED, INJECT_SKIPPED, INJECT_UNHELD,
  INJECT_WRITTEN, MESSAGE, MESSAGE_DELIVERED, MESSAGE_JAMMED, MESSAGE_READ_BACK, MESSAGE_RELAYED, MESSAGE_SENT, NOTE,
  OBSERVATION, PARTICIPANT_JOINED, RELAY_NOTE, SESSION_ENDED, SPEED_CHANGED,
} from "./events.js";
import { CHOICE_MADE, INJECT_CANCELLED, PERSONA_POSTED } from "./events.js";
import { CHANNEL_CLOSED, CHANNEL_OPENED, MOVE_ENDED, MOVE_STARTED } from "./events.js";
import { AI_DISCLOSURE, ASSESSMENT } from "./events.js";
import { IMPROVEMENT_PLAN, KEY_FINDINGS, PARTICIPANT_REMOVED } from "./events.js";
import { el } from "./live.js";
import { formatClock } from "./times.js";

export function teamLabel(teams, id) {
  if (id === "control") return "Exercise control";
  return teams[id] || id || "";
}

// Tabs with the ARIA tabs pattern: arrow keys, Home and End move between them.
export function bindTabs(tablist, views, onSelect) {
  const api = { current: null, select: null };
  const buttons = views.map((view) => {
    const count = el("span", { class: "count", hidden: true });
    const button = el(
      "button",
      { type: "button", role: "tab", id: `tab-${view.id}`, "aria-controls": `panel-${view.id}`, "aria-selected": "false", tabindex: "-1" },
      el("span", { dir: "auto" }, view.label), " ", count,
    );
    view.tab = button;
    view.count = count;
    button.addEventListener("click", () => api.select(view.id, true));
    button.addEventListener("keydown", (ev) => {
      const index = views.indexOf(view);
      let next = null;
      if (ev.key === "ArrowRight" || ev.key === "ArrowDown") next = views[(index + 1) % views.length];
      else if (ev.key === "ArrowLeft" || ev.key === "ArrowUp") next = views[(index - 1 + views.length) % views.length];
      else if (ev.key === "Home") next = views[0];
      else if (ev.key === "End") next = views[views.length - 1];
      if (next) {
        ev.preventDefault();
        api.select(next.id, true);
      }
    });
    tablist.append(button);
    return button;
  });
  api.select = (id, focus) => {
    const chosen = views.find((v) => v.id === id) || views[0];
    for (const view of views) {
      const on = view === chosen;
      view.tab.setAttribute("aria-selected", on ? "true" : "false");
      view.tab.tabIndex = on ? 0 : -1;
      view.panel.hidden = !on;
    }
    api.current = chosen.id;
    if (focus) chosen.tab.focus();
    onSelect(chosen);
  };
  void buttons;
  return api;
}

const IMAGES = /\.(svg|png|jpe?g|gif|webp)$/i;

// Attachments: images and SVG maps inline (an <img> cannot run scripts), other files as links.
export function attachmentList(session, names) {
  if (!names.length) return null;
  const box = el("div", { class: "attachments" });
  for (const name of names) {
    const url = `/attachments/${encodeURIComponent(session)}/${name.split("/").map(encodeURIComponent).join("/")}`;
    if (IMAGES.test(name)) {
      box.append(el("figure", {},
        el("a", { href: url, target: "_blank", rel: "noopener" }, el("img", { src: url, alt: `Attachment: ${name}`, loading: "lazy" })),
        el("figcaption", { class: "small muted" }, name)));
    } else {
      box.append(el("a", { href: url, target: "_blank", rel: "noopener" }, `Attachment: ${name}`));
    }
  }
  return box;
}

// One line of a feed (console, observers): who, where, what. Text only.
export function describe(event, ctx) {
  const p = event.payload || {};
  const { teams, channelNames } = ctx;
  const channel = p.channel ? channelNames[p.channel] || p.channel : "";
  const from = p.from_team ? teamLabel(teams, p.from_team) : "";
  const who = p.name ? `${from}${from ? ", " : ""}${p.name}` : from;
  const to = (list) => (list || []).map((t) => teamLabel(teams, t)).join(", ");
  // Names, never ids, where the page gives them: inject titles, option labels, objectives, reasons.
  const inj = (id) => (ctx.injectTitle ? `“${ctx.injectTitle(id)}”` : id);
  const why = (reason) => (ctx.reasonText ? ctx.reasonText(reason) : reason) || "";
  const goal = (id) => (ctx.objectiveText ? ctx.objectiveText(id) : id);
  switch (event.type) {
    case INJECT_RELEASED:
      return {
        kind: "inject", teams: p.to || [], title: `${p.fiction ? "[Exercise event] " : ""}Inject to ${to(p.to)}: ${p.title}`,
        text: [p.from ? `From ${p.from} (${p.medium})` : "", p.source ? `Source: ${p.source}` : ""].filter(Boolean).join(" · "),
      };
    case INJECT_ACKNOWLEDGED:
      return { kind: "ack", teams: [p.team], title: `${teamLabel(teams, p.team)} acknowledged ${inj(p.inject)}`, text: p.name || "" };
    case DECISION_MADE:
      return {
        kind: "decision", teams: p.team ? [p.team] : [], title: `Decision on ${inj(p.inject)}: ${p.label || "none"}${p.by_default ? " (by default at the deadline)" : ""}`,
        text: [p.name ? `By ${p.name}` : "", p.rationale ? `Rationale: ${p.rationale}` : ""].filter(Boolean).join(" · "),
      };
    case MESSAGE:
      return {
        kind: "message", channel: p.channel, teams: [p.from_team, p.team].filter(Boolean),
        title: `${who} on ${channel}${p.channel === "team" && p.team ? ` (${teamLabel(teams, p.team)})` : ""}${p.spoofed ? " [spoofed by control]" : ""}`, text: p.text,
      };
    case MESSAGE_SENT:
      return {
        kind: "message", channel: p.channel, teams: [p.from_team, ...(p.to || [])],
        title: `${who} on ${channel} → ${p.relay ? `with ${teamLabel(teams, p.relay)}` : "in transit"}${p.readback ? " (read-back asked)" : ""}`,
        text: p.instructions ? `${p.text}\nInstructions for the intermediary: ${p.instructions}` : p.text,
      };
    case RELAY_NOTE:
      return { kind: "relay", channel: p.channel, teams: [p.to, p.relay], title: `${teamLabel(teams, p.relay)} note to ${teamLabel(teams, p.to)} on ${channel}${p.message ? ` about #${p.message}` : ""}${p.by ? ` (${p.by})` : ""}`, text: p.text };
    case MESSAGE_READ_BACK:
      return { kind: "relay", channel: p.channel, teams: [p.team, p.sender, p.relay], title: `${teamLabel(teams, p.team)} read back #${p.message} on ${channel}${p.name ? ` (${p.name})` : ""}`, text: p.text || "" };
    case MESSAGE_RELAYED:
      return {
        kind: "relay", channel: p.channel, teams: [p.from_team, p.relay],
        title: `${teamLabel(teams, p.relay)} ${{ forward: "forwarded verbatim", edit: "forwarded an edit of", hold: "holds", decline: "declined" }[p.action]} message #${p.message} on ${channel}${p.by ? ` (${p.by})` : ""}`,
        text: p.text && p.action === "edit" ? p.text : "",
      };
    case MESSAGE_DELIVERED:
      return { kind: "message", channel: p.channel, teams: [p.from_team], title: who ? `Delivered on ${channel}: from ${who}` : `Delivered on ${channel}: through the intermediary`, text: p.text };
    case MESSAGE_JAMMED:
      return { kind: "message", channel: p.channel, teams: [p.from_team], title: `${who} on ${channel}: jammed, not delivered`, text: p.text };
    case CHANNEL_JAMMED:
      return { kind: "channel", channel: p.channel, teams: [], title: `${channel} jammed until ${formatClock(p.until)}${p.by ? ` by ${p.by}` : ""}`, text: "" };
    case CHANNEL_CLEARED:
      return { kind: "channel", channel: p.channel, teams: [], title: `${channel} clear again${p.by ? ` (${p.by})` : ""}`, text: "" };
    case CHANNEL_OPENED:
    case CHANNEL_CLOSED: {
      const done = event.type === CHANNEL_OPENED ? "opened" : "closed";
      return { kind: "channel", channel: p.channel, teams: [], title: `${channel} ${done}${p.by ? ` by ${p.by}` : p.inject ? ` by the inject ${inj(p.inject)}` : ""}`, text: "" };
    }
    case MOVE_STARTED: return { kind: "clock", teams: [], title: `${p.title} started${p.by ? ` (${p.by})` : ""}`, text: "" };
    case MOVE_ENDED: return { kind: "clock", teams: [], title: `The clock stopped at ${formatClock(p.at)} for a plenary`, text: `Next: ${(ctx.moveNames || {})[p.next] || p.next}` };
    case PARTICIPANT_JOINED:
      return { kind: "people", teams: p.team ? [p.team] : [], title: `${p.name} joined ${p.kind === "observer" ? "as an observer" : teamLabel(teams, p.team)}`, text: "" };
    case CLOCK_STARTED: return { kind: "clock", teams: [], title: "Clock started", text: "" };
    case CLOCK_PAUSED: return { kind: "clock", teams: [], title: "Clock paused", text: "" };
    case CLOCK_RESUMED: return { kind: "clock", teams: [], title: "Clock resumed", text: "" };
    case SPEED_CHANGED: return { kind: "clock", teams: [], title: `Speed ${p.speed}x`, text: "" };
    case SESSION_ENDED: return { kind: "clock", teams: [], title: "Session ended", text: "" };
    case ESCALATION_CHANGED: return { kind: "escalation", teams: [], title: `Escalation ${p.delta > 0 ? "+" : ""}${p.delta} → ${ctx.levelLabel ? ctx.levelLabel(p.level) : `level ${p.level}`}`, text: why(p.reason) };
    case INJECT_HELD: return { kind: "msel", teams: [], title: `Held ${inj(p.inject)}`, text: "" };
    case INJECT_UNHELD: return { kind: "msel", teams: [], title: `Released the hold on ${inj(p.inject)}`, text: "" };
    case INJECT_SKIPPED: return { kind: "msel", teams: [], title: `Skipped ${inj(p.inject)}`, text: "" };
    case INJECT_MOVED: return { kind: "msel", teams: [], title: `Moved ${inj(p.inject)} to ${formatClock(p.at)}`, text: "" };
    case INJECT_WRITTEN: return { kind: "msel", teams: p.definition ? p.definition.to : [], title: `New inject written: ${p.definition ? p.definition.title : ""}`, text: "" };
    case NOTE: return { kind: "note", teams: [], title: `Note by ${p.name}`, text: p.text };
    case OBSERVATION: return { kind: "observation", teams: p.team ? [p.team] : [], title: `Observation ${p.rating}${p.finding ? ` (${p.finding === "strength" ? "strength" : "area for improvement"})` : ""}${p.objective ? ` on ${goal(p.objective)}` : ""}${p.team ? `, ${teamLabel(teams, p.team)}` : ""} by ${p.name}`, text: p.text };
    case PARTICIPANT_REMOVED:
      return { kind: "people", teams: p.team ? [p.team] : [], title: `${p.name} ${p.moved_to ? "moved to another seat" : "removed"}${p.by ? ` by ${p.by}` : ""}`, text: "" };
    case AI_DISCLOSURE: return { kind: "note", teams: [], title: p.told ? "AI seats: players are told which seats are AI" : "AI seats: players are not told which seats are AI", text: p.by ? `set by ${p.by}` : "" };
    case KEY_FINDINGS: return { kind: "note", teams: [], title: `Key findings saved by ${p.by}`, text: p.text || "" };
    case IMPROVEMENT_PLAN: {
      const n = (p.items || []).length;
      return { kind: "note", teams: [], title: `Improvement plan saved by ${p.by}: ${n} item${n === 1 ? "" : "s"}`, text: (p.items || []).map((i) => i.issue).join("\n") };
    }
    case FEEDBACK: return { kind: "feedback", teams: p.team ? [p.team] : [], title: `Hotwash from ${p.name}`, text: "" };
    case INJECT_CANCELLED: return { kind: "msel", teams: [], title: `Cancelled ${inj(p.inject)}`, text: p.reason || "" };
    case CHOICE_MADE:
      return { kind: "msel", teams: [], title: `Choice ${inj(p.choice)}: ${p.inject ? `released ${inj(p.inject)}` : "nothing released"}${p.how === "by hand" ? " (sent by hand)" : ""}`, text: p.reason || "" };
    case PERSONA_POSTED:
      return { kind: "message", channel: p.channel, teams: p.team ? [p.team] : [], title: `${p.name} on ${channel} (persona${p.spoofed_by ? `, posted by ${p.spoofed_by}` : ""})`, text: p.text };
    case ASSESSMENT:
      return { kind: "assessment", teams: [p.team], title: `${teamLabel(teams, p.team)} assessment on ${p.question}: ${p.answer} (${p.confidence}% sure)`, text: p.by ? `By ${p.by}` : "" };
    default: return { kind: "other", teams: [], title: event.type.replaceAll("_", " "), text: "" };
  }
}

// A post on a public (broadcast) channel, for the feeds of the room, the console and the observers:
// who (a persona's name, or the team and the writer), when, what. Text only.
export function publicPost(event, teams, { control = false } = {}) {
  const p = event.payload || {};
  const persona = event.type === PERSONA_POSTED;
  const author = persona ? p.name : teamLabel(teams, p.from_team);
  const byline = persona
    ? [p.team ? teamLabel(teams, p.team) : "", control && p.spoofed_by ? `persona posted by ${p.spoofed_by}` : ""]
    : [p.name || ""];
  return el("li", { class: `post${persona ? " persona" : ""}`, "data-seq": event.seq },
    el("div", { class: "post-head" },
      el("strong", { class: "post-author", dir: "auto" }, author),
      " ", el("span", { class: "muted small", dir: "auto" }, byline.filter(Boolean).join(" · ")),
      " ", el("span", { class: "meta" }, formatClock(event.t))),
    el("div", { class: "text", dir: "auto" }, p.text || ""));
}

export function feedItem(event, info) {
  return el("li", { "data-kind": info.kind, "data-channel": info.channel || "", "data-teams": (info.teams || []).join(" ") },
    el("div", { class: "meta" }, `${formatClock(event.t)} · #${event.seq}`),
    el("div", { dir: "auto" }, el("strong", {}, info.title)),
    info.text ? el("div", { class: "text", dir: "auto" }, info.text) : null);
}

// Show only the feed items matching the chosen team and channel.
export function filterFeed(list, team, channel) {
  for (const item of list.children) {
    const teamsOf = (item.dataset.teams || "").split(" ");
    const okTeam = !team || teamsOf.includes(team);
    const okChannel = !channel || item.dataset.channel === channel || (channel === "injects" && item.dataset.kind === "inject");
    item.hidden = !(okTeam && okChannel);
  }
}
