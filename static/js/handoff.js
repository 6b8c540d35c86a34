// The console's hand-off (issue 13): key findings and the improvement plan (issue, corrective action,
// capability or objective, responsible organisation, point of contact, start and end dates), stored
// in the log by the key-findings and improvement-plan commands and read back from it after a
// reload; and this session's reports, with their share links.
import { announce, el } from "./live.js";
import { IMPROVEMENT_PLAN, KEY_FINDINGS, SESSION_ENDED } from "./events.js";
import { formatClock } from "./times.js";

const $ = (id) => document.getElementById(id);
const FIELDS = [
  ["issue", "Issue", "textarea", 1000],
  ["action", "Corrective action", "textarea", 4000],
  ["objective", "Capability or objective", "select"],
  ["capability", "Capability (in words, when it is not an objective)", "text", 200],
  ["organisation", "Responsible organisation", "text", 200],
  ["contact", "Point of contact", "text", 200],
  ["start", "Start date", "date", 40],
  ["due", "End date", "date", 40],
];

export function bindHandoff({ client, script, session, token }) {
  const list = $("plan-items");
  if (!list) return { refreshReports: () => {} };
  let rows = 0;
  let planDirty = false;
  let findingsDirty = false;

  function row(item = {}) {
    rows += 1;
    const n = rows;
    const inputs = {};
    const fields = FIELDS.map(([key, label, kind, max]) => {
      const id = `plan-${n}-${key}`;
      let input;
      if (kind === "select") {
        input = el("select", { id }, el("option", { value: "" }, "(none: write the capability below)"),
          ...(script.objectives || []).map((o) => el("option", { value: o.id },
            `${o.capability ? `${o.capability}: ` : ""}${o.text.length > 70 ? `${o.text.slice(0, 69)}…` : o.text}`)));
      } else if (kind === "textarea") {
        input = el("textarea", { id, rows: 2, maxlength: max, dir: "auto", required: key === "issue" });
      } else {
        input = el("input", { id, type: kind, maxlength: max, dir: kind === "text" ? "auto" : null });
      }
      input.value = item[key] || "";
      input.addEventListener("input", () => { planDirty = true; });
      inputs[key] = input;
      return el("div", { class: `field plan-${key}` }, el("label", { for: id }, label), input);
    });
    const remove = el("button", { type: "button", class: "secondary small" }, "Remove this row");
    const node = el("li", { class: "plan-item" },
      el("fieldset", {}, el("legend", {}, `Item ${n}`), el("div", { class: "plan-grid" }, ...fields), remove));
    remove.addEventListener("click", () => { node.remove(); planDirty = true; if (!list.children.length) row(); });
    node.inputs = inputs;
    list.append(node);
    return node;
  }

  function fill(items) {
    list.replaceChildren();
    rows = 0;
    for (const item of items.length ? items : [{}]) row(item);
  }
  fill([]);

  $("plan-add").addEventListener("click", () => { const node = row(); node.inputs.issue.focus(); });
  $("plan-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const items = [];
    for (const node of list.children) {
      const v = Object.fromEntries(Object.entries(node.inputs).map(([k, input]) => [k, input.value.trim()]));
      if (!Object.values(v).some(Boolean)) continue; // an empty row
      const item = { issue: v.issue, action: v.action, organisation: v.organisation, due: v.due, objective: v.objective || null };
      for (const k of ["capability", "contact", "start"]) if (v[k]) item[k] = v[k];
      items.push(item);
    }
    const answer = await client.command(IMPROVEMENT_PLAN, { items }); // the command has its event's name
    if (answer.ok) {
      planDirty = false;
      announce("Improvement plan saved");
    }
  });

  $("findings-text").addEventListener("input", () => { findingsDirty = true; });
  $("findings-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const answer = await client.command(KEY_FINDINGS, { text: $("findings-text").value.trim() });
    if (answer.ok) {
      findingsDirty = false;
      announce("Key findings saved");
    }
  });

  client.on("event", (event) => {
    const p = event.payload;
    if (event.type === IMPROVEMENT_PLAN) {
      if (!planDirty) fill(p.items || []);
      $("plan-summary").textContent = `(${(p.items || []).length} saved)`;
      $("plan-saved").textContent = `Saved at ${formatClock(event.t)} by ${p.by}: ${(p.items || []).length} item${(p.items || []).length === 1 ? "" : "s"}.`;
    } else if (event.type === KEY_FINDINGS) {
      if (!findingsDirty) $("findings-text").value = p.text;
      $("findings-saved").textContent = `Saved at ${formatClock(event.t)} by ${p.by}.`;
    }
  });

  // After the end the plan is what is left to do: it opens by itself (once: the facilitator may fold it).
  let opened = false;
  client.on("state", (state) => {
    if (!opened && state.clock && state.clock.status === "ended") {
      opened = true;
      $("plan-details").open = true;
    }
  });
  client.on("event", (event) => {
    if (!opened && event.type === SESSION_ENDED) {
      opened = true;
      $("plan-details").open = true;
    }
  });

  // ---------------------------------------------------------------- reports of this session
  const auth = { Authorization: `Bearer ${token}` };
  const words = { queued: "queued", building: "building", done: "ready", failed: "failed" };

  async function share(report, box) {
    const response = await fetch(`/api/reports/${report.id}/share`, {
      method: "POST", headers: { ...auth, "Content-Type": "application/json" }, body: JSON.stringify({ hours: 72 }),
    }).catch(() => null);
    const data = response ? await response.json().catch(() => ({})) : {};
    if (!data.ok) {
      box.replaceChildren(el("span", { class: "error-text" }, (data.error && data.error.message) || "The link could not be made."));
      return;
    }
    const until = new Date(data.expires * 1000).toISOString().slice(0, 16).replace("T", " ");
    const input = el("input", { type: "text", readonly: true, value: data.url, "aria-label": `Share link for report ${report.id}`, class: "share-url" });
    box.replaceChildren(el("span", { class: "small" }, `Link valid until ${until} UTC: `), input);
    input.select();
    announce("Share link made");
  }

  async function refreshReports() {
    const response = await fetch(`/api/sessions/${encodeURIComponent(session)}/reports`, { headers: auth }).catch(() => null);
    if (!response || !response.ok) return;
    const data = await response.json();
    const reports = [...(data.reports || [])].sort((a, b) => b.id - a.id);
    $("reports-empty").hidden = reports.length > 0;
    $("reports").replaceChildren(...reports.map((r) => {
      const when = r.created ? r.created.slice(0, 16).replace("T", " ") : "";
      const shareBox = el("div", { class: "share-box" });
      const parts = [el("span", {}, `Report ${r.id}`), el("span", { class: "muted" }, ` · ${when} UTC · `),
        el("span", { class: `badge ${r.status === "done" ? "ok" : r.status === "failed" ? "danger" : ""}` }, words[r.status] || r.status)];
      if (r.status === "done") {
        parts.push(" ", el("a", { href: r.pdf, download: `tabletop-${session}-report-${r.id}.pdf` }, "PDF", el("span", { class: "visually-hidden" }, ` of report ${r.id}`)),
          " · ", el("a", { href: r.html, target: "_blank", rel: "noopener" }, "view", el("span", { class: "visually-hidden" }, ` report ${r.id}`)),
          " ", el("button", { type: "button", class: "secondary small", onclick: () => share(r, shareBox) }, "Share link (72 hours)", el("span", { class: "visually-hidden" }, ` for report ${r.id}`)));
      } else if (r.error) {
        parts.push(el("span", { class: "error-text" }, `: ${r.error}`));
      }
      return el("li", { "data-report": r.id }, el("div", {}, ...parts), shareBox);
    }));
  }
  refreshReports();
  return { refreshReports };
}
