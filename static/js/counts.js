// A character count under every text box with a limit: "120 / 4,000 characters". Nothing is cut
// without saying so: text pasted past the limit is cut by the browser, and the count says how much.
// Boxes made later by a page's script get their count too (the page is watched for new ones).
import { announce, el } from "./live.js";

const fmt = (n) => n.toLocaleString("en-GB");

function attach(box, out) {
  if (box.dataset.counted) return;
  box.dataset.counted = "1";
  const limit = Number(box.getAttribute("maxlength"));
  let cut = 0;
  let shown = -1;
  const update = (force = false) => {
    const n = box.value.length;
    if (n === shown && !force) return;
    if (n < shown || n === 0) cut = 0;
    shown = n;
    const left = limit - n;
    let text = `${fmt(n)} / ${fmt(limit)} characters`;
    if (cut) text += `: ${fmt(cut)} pasted characters did not fit and were left out`;
    else if (left === 0) text += ": the limit, nothing more fits";
    out.textContent = text;
    out.classList.toggle("at-limit", left <= limit * 0.05 || cut > 0);
  };
  box.addEventListener("input", () => update());
  box.addEventListener("paste", (ev) => {
    const pasted = (ev.clipboardData && ev.clipboardData.getData("text")) || "";
    const room = limit - (box.value.length - Math.abs((box.selectionEnd || 0) - (box.selectionStart || 0)));
    if (pasted.length > room) {
      window.setTimeout(() => {
        cut = pasted.length - Math.max(room, 0);
        update(true);
        announce(`The text is too long: ${fmt(cut)} characters did not fit (the limit is ${fmt(limit)})`);
      }, 0);
    }
  });
  box.form && box.form.addEventListener("reset", () => window.setTimeout(() => update(true), 0));
  // A value set by a script (a message sent clears its box) updates the count at once.
  const native = Object.getOwnPropertyDescriptor(HTMLTextAreaElement.prototype, "value");
  Object.defineProperty(box, "value", {
    configurable: true,
    get() { return native.get.call(this); },
    set(v) { native.set.call(this, v); update(true); },
  });
  update(true);
}

export function bindCounts(root = document) {
  let made = 0;
  const scan = () => {
    for (const box of root.querySelectorAll("textarea[maxlength]:not([data-counted])")) {
      let out = box.id ? root.querySelector(`[data-count-for="${CSS.escape(box.id)}"]`) : null;
      if (!out) {
        made += 1;
        out = el("span", { class: "count-line", id: `count-${made}` });
        box.after(out);
      }
      attach(box, out);
    }
  };
  scan();
  new MutationObserver(scan).observe(root.body || root, { childList: true, subtree: true });
}
