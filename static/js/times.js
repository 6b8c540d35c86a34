// Every time format the pages show, in one place: the twin of tabletop/script/times.py.
//
//   formatClock(s)          +00:15:07          the running exercise clock and event times (to the second, rounded down)
//   formatShortOffset(s)    +00:15             an offset to the minute (Python: format_short_offset)
//   formatCountdown(s)      04:59              time left before a deadline or a due inject (rounded up)
//   formatScenarioClock(..) 20 Jun 2019 04:05:07 UTC+04:00
//                                              scenario time in the scenario's own zone, whatever the browser's
//
// Nothing here reads the page or the clock: each function maps numbers to text.

const pad = (n) => String(Math.floor(n)).padStart(2, "0");

export const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

// `+HH:MM:SS` of exercise time (nothing or less than 0 counts as 0).
export function formatClock(seconds) {
  const s = Math.max(0, Math.floor(seconds || 0));
  return `+${pad(s / 3600)}:${pad((s % 3600) / 60)}:${pad(s % 60)}`;
}

// `+HH:MM` of exercise time, rounded down to the minute.
export function formatShortOffset(seconds) {
  const s = Math.max(0, Math.floor(seconds || 0));
  return `+${pad(s / 3600)}:${pad((s % 3600) / 60)}`;
}

// `MM:SS` left, rounded up (a minute and more shows as 60:00 and beyond).
export function formatCountdown(seconds) {
  const s = Math.max(0, Math.ceil(seconds || 0));
  return `${pad(s / 60)}:${pad(s % 60)}`;
}

// Scenario time at `elapsed` exercise seconds: `start + elapsed * scale`, shown in the UTC offset
// that `startIso` carries (e.g. Gulf time), with that zone named; empty without a start.
export function formatScenarioClock(startIso, elapsed, scale) {
  if (!startIso) return "";
  const m = /([+-])(\d\d):(\d\d)$/.exec(startIso);
  const offsetMin = m ? (m[1] === "-" ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) : 0;
  const start = Date.parse(startIso);
  if (Number.isNaN(start)) return "";
  const t = new Date(start + (elapsed || 0) * (scale || 1) * 1000 + offsetMin * 60000);
  const zone = m ? `UTC${m[1]}${m[2]}:${m[3]}` : "UTC";
  return `${pad(t.getUTCDate())} ${MONTHS[t.getUTCMonth()]} ${t.getUTCFullYear()} ` +
    `${pad(t.getUTCHours())}:${pad(t.getUTCMinutes())}:${pad(t.getUTCSeconds())} ${zone}`;
}
