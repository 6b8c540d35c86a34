// A new inject announces itself in the tab title ("(2) New inject · ..."), and, for those who turn it
// on (off by default, kept per browser), with a short sound. It listens to what the page already
// announces through its ARIA live region ("New inject: ..."), so the room's own script is unchanged.
import { el } from "./live.js";

const KEY = "tabletop:inject-sound";
const title = document.title;
let unseen = 0;

function beep() {
  try {
    const Ctx = window.AudioContext || window.webkitAudioContext;
    const ctx = new Ctx();
    const tone = ctx.createOscillator();
    const gain = ctx.createGain();
    tone.frequency.value = 880;
    gain.gain.setValueAtTime(0.0001, ctx.currentTime);
    gain.gain.exponentialRampToValueAtTime(0.2, ctx.currentTime + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, ctx.currentTime + 0.35);
    tone.connect(gain).connect(ctx.destination);
    tone.start();
    tone.stop(ctx.currentTime + 0.4);
    tone.onended = () => ctx.close();
  } catch (_err) {
    // no audio: the title still says it
  }
}

function seen() {
  unseen = 0;
  document.title = title;
}

export function bindInjectAlerts({ place } = {}) {
  const announcer = document.getElementById("announcer");
  if (!announcer) return;
  const box = el("input", { type: "checkbox", id: "inject-sound" });
  box.checked = localStorage.getItem(KEY) === "on";
  box.addEventListener("change", () => localStorage.setItem(KEY, box.checked ? "on" : "off"));
  const target = place || document.querySelector("#inbox-h") || document.querySelector("main h2");
  if (target) target.after(el("label", { class: "choice small sound-toggle" }, box, el("span", {}, "Sound for new injects")));
  new MutationObserver(() => {
    const text = announcer.textContent || "";
    if (!text.startsWith("New inject")) return;
    if (box.checked) beep();
    if (document.hidden || !document.hasFocus()) {
      unseen += 1;
      document.title = `(${unseen}) New inject · ${title}`;
    }
  }).observe(announcer, { childList: true, characterData: true, subtree: true });
  document.addEventListener("visibilitychange", () => { if (!document.hidden) seen(); });
  window.addEventListener("focus", seen);
}
