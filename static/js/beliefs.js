// Belief against truth (issue 14): the room's assessment panel, the console's pictures beside the
// truth, and the tape's pictures at a moment and over time. The key questions come in the state
// summary (`state.key_questions`: the truth for control only). Player text only as text nodes.
import { ASSESSMENT, INJECT_RELEASED } from "./events.js";
import { announce, el } from "./live.js";
import { formatClock } from "./times.js";

const SVG = "http://www.w3.org/2000/svg";

function teamName(teams, id) {
  return teams[id] || id;
}

function answerText(answer) {
  return answer === null || answer === undefined ? "" : String(answer);
}

function gapText(gap) {
  if (gap === null || gap === undefined) return "no gap computed";
  return `gap ${gap.toFixed(2)}`;
}

function gapClass(gap) {
  if (gap === null || gap === undefined) return "gap-none";
  if (gap < 0.25) return "gap-low";
  if (gap < 0.6) return "gap-mid";
  return "gap-high";
}

// ------------------------------------------------------------------ pictures beside the truth
// One table per question: each team's picture (answer, confidence, by, when) and, for control, the
// truth and the gap. `pictures` are the state summary's (the latest of each team).
export function picturesTable(question, teams, { control }) {
  const box = el("div", { class: "belief-question", "data-question": question.id });
  box.append(el("h3", { dir: "auto" }, question.question));
  if (control && question.truth !== undefined && question.truth !== null) {
    box.append(el("p", { class: "truth" }, el("strong", {}, "Truth: "), el("span", { dir: "auto" }, answerText(question.truth))));
  }
  if (question.asked_teams !== undefined && (question.ask_at || []).length) {
    const asked = question.asked_teams.map((t) => teamName(teams, t));
    box.append(el("p", { class: "small muted" }, asked.length ? `Asked of ${asked.join(", ")} by now.` : "Not asked yet: its inject has not been released."));
  }
  const rows = question.pictures || [];
  if (!rows.length) {
    box.append(el("p", { class: "small muted" }, "No assessment yet."));
    return box;
  }
  const table = el("table", { class: "beliefs-table" },
    el("thead", {}, el("tr", {},
      el("th", { scope: "col" }, "Team"), el("th", { scope: "col" }, "Answer"), el("th", { scope: "col" }, "Confidence"),
      control ? el("th", { scope: "col" }, "Gap") : null, el("th", { scope: "col", class: "by" }, "By, when"))));
  const body = el("tbody");
  for (const p of rows) {
    body.append(el("tr", { "data-team": p.team },
      el("th", { scope: "row" }, teamName(teams, p.team)),
      el("td", { dir: "auto" }, answerText(p.answer)),
      el("td", {}, `${p.confidence}%`),
      control ? el("td", { class: gapClass(p.gap) }, p.gap === null || p.gap === undefined ? "–" : p.gap.toFixed(2)) : null,
      el("td", { class: "small by" }, `${p.by}, ${formatClock(p.t)}`)));
  }
  table.append(body);
  box.append(table);
  return box;
}

// ------------------------------------------------------------------ the console
export function bindConsole(client) {
  const body = document.getElementById("beliefs-body");
  if (!body) return;
  let teams = {};
  const draw = (state) => {
    if (!state || !state.key_questions) return;
    teams = Object.fromEntries((state.teams || []).map((t) => [t.id, t.name]));
    body.replaceChildren(...state.key_questions.map((q) => picturesTable(q, teams, { control: true })));
  };
  client.on("state", draw);
  client.on("event", (event, { live }) => {
    if (live && event.type === ASSESSMENT) client.refreshSoon(); // the gaps come with the state
  });
  if (client.state) draw(client.state);
}

// ------------------------------------------------------------------ the room
function answerInput(question, id) {
  if (question.kind === "choice") {
    return el("select", { id, name: "answer", required: true },
      el("option", { value: "" }, "Choose…"),
      ...question.options.map((o) => el("option", { value: o }, o)));
  }
  if (question.kind === "number") return el("input", { id, name: "answer", type: "number", step: "any", required: true });
  if (question.kind === "position") {
    return el("input", { id, name: "answer", type: "text", required: true, placeholder: "LAT, LON e.g. 25.9, 56.9", pattern: "\\s*-?\\d+(\\.\\d+)?\\s*,\\s*-?\\d+(\\.\\d+)?\\s*" });
  }
  return el("textarea", { id, name: "answer", rows: 2, required: true, maxlength: 2000 });
}

export function bindRoom(client) {
  const section = document.getElementById("beliefs");
  const body = document.getElementById("beliefs-body");
  const prompt = document.getElementById("beliefs-prompt");
  if (!section || !body) return;
  const forms = new Map(); // question id -> {question, current, node}
  let asked = null; // question ids asked so far (null: not yet known)

  const showPicture = (entry, p) => {
    entry.current.textContent = p
      ? `Your team's picture: ${answerText(p.answer)} (${p.confidence}% sure), by ${p.by} at ${formatClock(p.t)}`
      : "Your team has not answered yet.";
  };

  const build = (q) => {
    const id = `assess-${q.id}`;
    const input = answerInput(q, id);
    const range = el("input", { type: "range", min: 0, max: 100, step: 5, value: 50, id: `${id}-c`, name: "confidence" });
    const shown = el("output", { for: `${id}-c` }, "50%");
    range.addEventListener("input", () => { shown.textContent = `${range.value}%`; });
    const current = el("p", { class: "small muted belief-current", dir: "auto" });
    const button = el("button", { type: "submit" }, "Give your assessment");
    const form = el("form", { class: "assess-form", "data-question": q.id },
      el("label", { for: id, class: "assess-q", dir: "auto" }, q.question),
      input,
      el("label", { for: `${id}-c`, class: "small" }, "How sure are you? ", shown),
      range, button, current);
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      let answer = input.value.trim();
      if (!answer) return;
      if (q.kind === "number") answer = Number(answer);
      button.disabled = true;
      const reply = await client.command("assess", { question: q.id, answer, confidence: Number(range.value) });
      button.disabled = false;
      if (reply.ok) announce("Assessment given");
    });
    return { question: q, current, node: form };
  };

  const draw = (state) => {
    const questions = (state && state.key_questions) || [];
    if (!questions.length) return;
    section.hidden = false;
    const before = asked;
    asked = new Set(questions.filter((q) => q.asked).map((q) => q.id));
    const fresh = [];
    for (const q of questions) {
      if (!q.asked) continue;
      let entry = forms.get(q.id);
      if (!entry) {
        entry = build(q);
        forms.set(q.id, entry);
        body.append(entry.node);
        if (before !== null) fresh.push(q);
      }
      showPicture(entry, (q.pictures || [])[0]);
    }
    if (!forms.size) body.replaceChildren(el("p", { class: "small muted", id: "beliefs-none" }, "Control has not asked your team anything yet."));
    else document.getElementById("beliefs-none")?.remove();
    if (fresh.length && prompt) {
      prompt.textContent = `Control asks: ${fresh.map((q) => q.question).join(" · ")}`;
      prompt.hidden = false;
      announce(`Control asks your team: ${fresh[0].question}`);
      for (const q of fresh) forms.get(q.id).node.classList.add("new");
    }
  };

  client.on("state", draw);
  client.on("event", (event, { live }) => {
    const p = event.payload || {};
    if (event.type === ASSESSMENT) {
      const entry = forms.get(p.question);
      if (entry) {
        showPicture(entry, { ...p, t: event.t });
        entry.node.classList.remove("new");
      }
    } else if (live && event.type === INJECT_RELEASED && asked !== null) {
      client.refreshSoon(); // it may ask a key question: the state says so
    }
  });
  if (client.state) draw(client.state);
}

// ------------------------------------------------------------------ the tape
// The pictures at the tape's moment (the state summary of that moment) and, for each question, a
// chart of each team's gap (control) or confidence (a team's own view) over the session, with the
// moment marked.
export function drawTape(body, { questions, series, teams, control, t, endT, onPick }) {
  if (!body) return;
  const parts = [];
  for (const q of questions || []) {
    const box = picturesTable(q, teams, { control });
    const line = (series || []).find((s) => s.id === q.id);
    if (line && line.teams.some((entry) => entry.points.length)) box.append(chart(line, teams, { control, t, endT, onPick }));
    parts.push(box);
  }
  body.replaceChildren(...parts);
}

const COLOURS = ["#0b5cad", "#b3261e", "#1d6b34", "#5b3f99", "#7a4f00"];

function chart(line, teams, { control, t, endT, onPick }) {
  const width = 320;
  const height = 70;
  const pad = 4;
  const x = (time) => pad + (endT > 0 ? (time / endT) * (width - 2 * pad) : 0);
  const y = (value) => pad + (1 - value) * (height - 2 * pad);
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("class", "belief-chart");
  svg.setAttribute("role", "img");
  const what = control ? "gap to the truth (0 at the bottom: the truth)" : "confidence";
  svg.setAttribute("aria-label", `${line.question}: each team's ${what} over the session`);
  const frame = document.createElementNS(SVG, "rect");
  for (const [k, v] of Object.entries({ x: 0.5, y: 0.5, width: width - 1, height: height - 1, class: "frame" })) frame.setAttribute(k, v);
  svg.append(frame);
  const legend = el("ul", { class: "chart-legend small" });
  line.teams.forEach((entry, n) => {
    const colour = COLOURS[n % COLOURS.length];
    const points = entry.points.filter((p) => !control || (p.gap !== null && p.gap !== undefined));
    if (points.length) {
      let d = "";
      points.forEach((p, i) => {
        const value = control ? 1 - p.gap : p.confidence / 100;
        const next = points[i + 1] ? points[i + 1].t : endT;
        d += `${i ? "L" : "M"}${x(p.t).toFixed(1)},${y(value).toFixed(1)} H${x(next).toFixed(1)} `;
      });
      const path = document.createElementNS(SVG, "path");
      path.setAttribute("d", d);
      path.setAttribute("stroke", colour);
      path.setAttribute("class", "series");
      svg.append(path);
      for (const p of points) {
        const dot = document.createElementNS(SVG, "circle");
        const value = control ? 1 - p.gap : p.confidence / 100;
        dot.setAttribute("cx", x(p.t).toFixed(1));
        dot.setAttribute("cy", y(value).toFixed(1));
        dot.setAttribute("r", "3");
        dot.setAttribute("fill", colour);
        const title = document.createElementNS(SVG, "title");
        title.textContent = `${teamName(teams, entry.team)} ${formatClock(p.t)}: ${answerText(p.answer)} (${p.confidence}%)${control ? `, ${gapText(p.gap)}` : ""}`;
        dot.append(title);
        if (onPick) dot.addEventListener("click", () => onPick(p.seq));
        svg.append(dot);
      }
    }
    legend.append(el("li", {}, el("span", { class: "swatch", "data-colour": colour }), ` ${teamName(teams, entry.team)}${points.length ? "" : " (no answer)"}`));
  });
  const cursor = document.createElementNS(SVG, "line");
  for (const [k, v] of Object.entries({ x1: x(t), x2: x(t), y1: 0, y2: height, class: "cursor" })) cursor.setAttribute(k, v);
  svg.append(cursor);
  for (const swatch of legend.querySelectorAll(".swatch")) swatch.style.background = swatch.dataset.colour;
  const caption = el("p", { class: "small muted" }, control ? "Higher is closer to the truth (1 - gap), over exercise time; the line marks this moment." : "Confidence over exercise time; the line marks this moment.");
  return el("figure", { class: "belief-figure" }, svg, legend, caption);
}
