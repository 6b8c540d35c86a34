// Pieces shared by the room, the console and the observer page: tabs, attachments, the feed.
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
  switch (event.type) {
    case "inject_released":
      return { kind: "inject", teams: p.to || [], title: `Inject to ${to(p.to)}: ${p.title}`, text: p.from ? `From ${p.from} (${p.medium})` : "" };
    case "inject_acknowledged":
      return { kind: "ack", teams: [p.team], title: `${teamLabel(teams, p.team)} acknowledged ${p.inject}`, text: p.name || "" };
    case "decision_made":
      return {
        kind: "decision", teams: p.team ? [p.team] : [], title: `Decision on ${p.inject}: ${p.label || "none"}${p.by_default ? " (by default at the deadline)" : ""}`,
        text: [p.name ? `By ${p.name}` : "", p.rationale ? `Rationale: ${p.rationale}` : ""].filter(Boolean).join(" · "),
      };
    case "message":
      return {
        kind: "message", channel: p.channel, teams: [p.from_team, p.team].filter(Boolean),
        title: `${who} on ${channel}${p.channel === "team" && p.team ? ` (${teamLabel(teams, p.team)})` : ""}${p.spoofed ? " [spoofed by control]" : ""}`, text: p.text,
      };
    case "message_sent":
      return { kind: "message", channel: p.channel, teams: [p.from_team, ...(p.to || [])], title: `${who} on ${channel} → ${p.relay ? `with ${teamLabel(teams, p.relay)}` : "in transit"}`, text: p.text };
    case "message_relayed":
      return {
        kind: "relay", channel: p.channel, teams: [p.from_team, p.relay],
        title: `${teamLabel(teams, p.relay)} ${{ forward: "forwarded verbatim", edit: "forwarded an edit of", hold: "holds", decline: "declined" }[p.action]} message #${p.message} on ${channel}`,
        text: p.text && p.action === "edit" ? p.text : "",
      };
    case "message_delivered":
      return { kind: "message", channel: p.channel, teams: [p.from_team], title: `Delivered on ${channel}: from ${who}`, text: p.text };
    case "message_jammed":
      return { kind: "message", channel: p.channel, teams: [p.from_team], title: `${who} on ${channel}: jammed, not delivered`, text: p.text };
    case "channel_jammed":
      return { kind: "channel", channel: p.channel, teams: [], title: `${channel} jammed until ${formatClock(p.until)}`, text: "" };
    case "channel_cleared":
      return { kind: "channel", channel: p.channel, teams: [], title: `${channel} clear again`, text: "" };
    case "participant_joined":
      return { kind: "people", teams: p.team ? [p.team] : [], title: `${p.name} joined ${p.kind === "observer" ? "as an observer" : teamLabel(teams, p.team)}`, text: "" };
    case "clock_started": return { kind: "clock", teams: [], title: "Clock started", text: "" };
    case "clock_paused": return { kind: "clock", teams: [], title: "Clock paused", text: "" };
    case "clock_resumed": return { kind: "clock", teams: [], title: "Clock resumed", text: "" };
    case "speed_changed": return { kind: "clock", teams: [], title: `Speed ${p.speed}x`, text: "" };
    case "session_ended": return { kind: "clock", teams: [], title: "Session ended", text: "" };
    case "escalation_changed": return { kind: "escalation", teams: [], title: `Escalation ${p.delta > 0 ? "+" : ""}${p.delta} → level ${p.level}`, text: p.reason || "" };
    case "inject_held": return { kind: "msel", teams: [], title: `Held ${p.inject}`, text: "" };
    case "inject_unheld": return { kind: "msel", teams: [], title: `Released the hold on ${p.inject}`, text: "" };
    case "inject_skipped": return { kind: "msel", teams: [], title: `Skipped ${p.inject}`, text: "" };
    case "inject_moved": return { kind: "msel", teams: [], title: `Moved ${p.inject} to ${formatClock(p.at)}`, text: "" };
    case "inject_written": return { kind: "msel", teams: p.definition ? p.definition.to : [], title: `New inject written: ${p.definition ? p.definition.title : ""}`, text: "" };
    case "note": return { kind: "note", teams: [], title: `Note by ${p.name}`, text: p.text };
    case "observation": return { kind: "observation", teams: p.team ? [p.team] : [], title: `Observation ${p.rating}${p.objective ? ` on ${p.objective}` : ""} by ${p.name}`, text: p.text };
    case "feedback": return { kind: "feedback", teams: p.team ? [p.team] : [], title: `Hotwash from ${p.name}`, text: "" };
    default: return { kind: "other", teams: [], title: event.type.replaceAll("_", " "), text: "" };
  }
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
