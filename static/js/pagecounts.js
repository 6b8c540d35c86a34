// Plain pages with text boxes (the hotwash): a character count under each box with a limit.
import { bindCounts } from "./counts.js";

bindCounts();
