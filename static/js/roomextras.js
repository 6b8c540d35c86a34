// The room's small extras (issue 13): a character count under every composer, and new injects
// announced in the tab title and, when turned on, with a sound.
import { bindInjectAlerts } from "./alerts.js";
import { bindCounts } from "./counts.js";

bindCounts();
bindInjectAlerts();

// Lists that scroll are reachable by keyboard (Tab, then the arrow keys scroll them): WCAG 2.1.1.
const scrollable = () => {
  for (const list of document.querySelectorAll(".messages:not([tabindex]), .posts:not([tabindex])")) list.tabIndex = 0;
};
scrollable();
new MutationObserver(scrollable).observe(document.body, { childList: true, subtree: true });
