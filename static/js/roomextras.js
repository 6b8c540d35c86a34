// The room's small extras (issue 13): a character count under every composer, and new injects
// announced in the tab title and, when turned on, with a sound.
import { bindInjectAlerts } from "./alerts.js";
import { bindCounts } from "./counts.js";

bindCounts();
bindInjectAlerts();
