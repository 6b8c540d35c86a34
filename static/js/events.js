// Generated from tabletop/engine/events.py by `python -m tabletop.engine.contract`: do not edit by hand.
// The event types the server sends (`event.type`), each type's payload fields, and groups of types.
// Import the names (`import { INJECT_RELEASED } from "./events.js"`): a misspelt name fails to load.

export const PARTICIPANT_JOINED = "participant_joined";
export const PARTICIPANT_REMOVED = "participant_removed";
export const CLOCK_STARTED = "clock_started";
export const CLOCK_PAUSED = "clock_paused";
export const CLOCK_RESUMED = "clock_resumed";
export const SPEED_CHANGED = "speed_changed";
export const SESSION_ENDED = "session_ended";
export const INJECT_RELEASED = "inject_released";
export const INJECT_WRITTEN = "inject_written";
export const INJECT_HELD = "inject_held";
export const INJECT_UNHELD = "inject_unheld";
export const INJECT_SKIPPED = "inject_skipped";
export const INJECT_MOVED = "inject_moved";
export const INJECT_ACKNOWLEDGED = "inject_acknowledged";
export const MESSAGE = "message";
export const MESSAGE_SENT = "message_sent";
export const MESSAGE_RELAYED = "message_relayed";
export const MESSAGE_DELIVERED = "message_delivered";
export const MESSAGE_JAMMED = "message_jammed";
export const RELAY_NOTE = "relay_note";
export const MESSAGE_READ_BACK = "message_read_back";
export const CHANNEL_JAMMED = "channel_jammed";
export const CHANNEL_CLEARED = "channel_cleared";
export const CHANNEL_OPENED = "channel_opened";
export const CHANNEL_CLOSED = "channel_closed";
export const MOVE_STARTED = "move_started";
export const MOVE_ENDED = "move_ended";
export const DECISION_MADE = "decision_made";
export const ESCALATION_CHANGED = "escalation_changed";
export const NOTE = "note";
export const OBSERVATION = "observation";
export const FEEDBACK = "feedback";
export const IMPROVEMENT_PLAN = "improvement_plan";
export const KEY_FINDINGS = "key_findings";
export const INJECT_CANCELLED = "inject_cancelled";
export const CHOICE_MADE = "choice_made";
export const PERSONA_POSTED = "persona_posted";
export const ASSESSMENT = "assessment";
export const AI_DISCLOSURE = "ai_disclosure";

/** Every event type, in the order of docs/protocol.md. */
export const EVENT_TYPES = Object.freeze([
  PARTICIPANT_JOINED,
  PARTICIPANT_REMOVED,
  CLOCK_STARTED,
  CLOCK_PAUSED,
  CLOCK_RESUMED,
  SPEED_CHANGED,
  SESSION_ENDED,
  INJECT_RELEASED,
  INJECT_WRITTEN,
  INJECT_HELD,
  INJECT_UNHELD,
  INJECT_SKIPPED,
  INJECT_MOVED,
  INJECT_ACKNOWLEDGED,
  MESSAGE,
  MESSAGE_SENT,
  MESSAGE_RELAYED,
  MESSAGE_DELIVERED,
  MESSAGE_JAMMED,
  RELAY_NOTE,
  MESSAGE_READ_BACK,
  CHANNEL_JAMMED,
  CHANNEL_CLEARED,
  CHANNEL_OPENED,
  CHANNEL_CLOSED,
  MOVE_STARTED,
  MOVE_ENDED,
  DECISION_MADE,
  ESCALATION_CHANGED,
  NOTE,
  OBSERVATION,
  FEEDBACK,
  IMPROVEMENT_PLAN,
  KEY_FINDINGS,
  INJECT_CANCELLED,
  CHOICE_MADE,
  PERSONA_POSTED,
  ASSESSMENT,
  AI_DISCLOSURE,
]);

/** Each type's payload fields, in order; optional ones appear only sometimes. */
export const EVENT_FIELDS = Object.freeze({
  [PARTICIPANT_JOINED]: Object.freeze(["participant", "kind", "name", "team", "position", "teams", "ai"]),
  [PARTICIPANT_REMOVED]: Object.freeze(["participant", "kind", "name", "team", "position", "by", "moved_to"]),
  [CLOCK_STARTED]: Object.freeze(["speed", "by"]),
  [CLOCK_PAUSED]: Object.freeze(["by"]),
  [CLOCK_RESUMED]: Object.freeze(["by"]),
  [SPEED_CHANGED]: Object.freeze(["speed", "by"]),
  [SESSION_ENDED]: Object.freeze(["by"]),
  [INJECT_RELEASED]: Object.freeze(["inject", "title", "body", "from", "medium", "to", "attachments", "ack", "decision", "objectives", "classification", "expect", "notes", "effects", "live", "fiction", "source", "how"]),
  [INJECT_WRITTEN]: Object.freeze(["definition", "at", "by"]),
  [INJECT_HELD]: Object.freeze(["inject", "by"]),
  [INJECT_UNHELD]: Object.freeze(["inject", "by"]),
  [INJECT_SKIPPED]: Object.freeze(["inject", "by"]),
  [INJECT_MOVED]: Object.freeze(["inject", "at", "from", "by"]),
  [INJECT_ACKNOWLEDGED]: Object.freeze(["inject", "team", "from_position", "name", "participant"]),
  [MESSAGE]: Object.freeze(["channel", "team", "from_team", "from_position", "name", "participant", "text", "spoofed", "spoofed_by"]),
  [MESSAGE_SENT]: Object.freeze(["channel", "from_team", "from_position", "name", "participant", "text", "relay", "to", "delay", "instructions", "readback"]),
  [MESSAGE_RELAYED]: Object.freeze(["message", "channel", "relay", "from_team", "action", "by", "waited", "text", "edited", "delay", "readback"]),
  [MESSAGE_DELIVERED]: Object.freeze(["message", "channel", "from_team", "from_position", "name", "participant", "text", "readback"]),
  [MESSAGE_JAMMED]: Object.freeze(["channel", "from_team", "from_position", "name", "participant", "text", "reason"]),
  [RELAY_NOTE]: Object.freeze(["channel", "relay", "to", "by", "from_position", "participant", "text", "message"]),
  [MESSAGE_READ_BACK]: Object.freeze(["message", "channel", "relay", "sender", "team", "position", "name", "participant", "text"]),
  [CHANNEL_JAMMED]: Object.freeze(["channel", "until", "for", "inject", "by"]),
  [CHANNEL_CLEARED]: Object.freeze(["channel", "by"]),
  [CHANNEL_OPENED]: Object.freeze(["channel", "inject", "by"]),
  [CHANNEL_CLOSED]: Object.freeze(["channel", "inject", "by"]),
  [MOVE_STARTED]: Object.freeze(["move", "title", "at", "by"]),
  [MOVE_ENDED]: Object.freeze(["move", "next", "at"]),
  [DECISION_MADE]: Object.freeze(["inject", "option", "label", "escalation", "by_default", "lapsed", "rationale", "team", "position", "name", "participant"]),
  [ESCALATION_CHANGED]: Object.freeze(["delta", "level", "reason", "by"]),
  [NOTE]: Object.freeze(["text", "name"]),
  [OBSERVATION]: Object.freeze(["objective", "rating", "text", "team", "name", "participant", "finding"]),
  [FEEDBACK]: Object.freeze(["participant", "name", "kind", "team", "position", "strengths", "improvements", "channels", "key", "answers"]),
  [IMPROVEMENT_PLAN]: Object.freeze(["items", "by"]),
  [KEY_FINDINGS]: Object.freeze(["text", "by"]),
  [INJECT_CANCELLED]: Object.freeze(["inject", "reason"]),
  [CHOICE_MADE]: Object.freeze(["choice", "inject", "reason", "how"]),
  [PERSONA_POSTED]: Object.freeze(["channel", "persona", "name", "team", "text", "spoofed_by"]),
  [ASSESSMENT]: Object.freeze(["question", "team", "answer", "confidence", "by", "position"]),
  [AI_DISCLOSURE]: Object.freeze(["told", "by"]),
});

/** Each type's optional payload fields: absent unless they apply. */
export const OPTIONAL_FIELDS = Object.freeze({
  [PARTICIPANT_JOINED]: Object.freeze(["team", "position", "teams", "ai"]),
  [PARTICIPANT_REMOVED]: Object.freeze(["team", "position", "moved_to"]),
  [CLOCK_STARTED]: Object.freeze([]),
  [CLOCK_PAUSED]: Object.freeze([]),
  [CLOCK_RESUMED]: Object.freeze([]),
  [SPEED_CHANGED]: Object.freeze([]),
  [SESSION_ENDED]: Object.freeze([]),
  [INJECT_RELEASED]: Object.freeze(["live", "fiction", "source"]),
  [INJECT_WRITTEN]: Object.freeze([]),
  [INJECT_HELD]: Object.freeze([]),
  [INJECT_UNHELD]: Object.freeze([]),
  [INJECT_SKIPPED]: Object.freeze([]),
  [INJECT_MOVED]: Object.freeze([]),
  [INJECT_ACKNOWLEDGED]: Object.freeze([]),
  [MESSAGE]: Object.freeze(["team", "participant", "spoofed", "spoofed_by"]),
  [MESSAGE_SENT]: Object.freeze(["instructions", "readback"]),
  [MESSAGE_RELAYED]: Object.freeze(["text", "edited", "delay", "readback"]),
  [MESSAGE_DELIVERED]: Object.freeze(["readback"]),
  [MESSAGE_JAMMED]: Object.freeze([]),
  [RELAY_NOTE]: Object.freeze(["message"]),
  [MESSAGE_READ_BACK]: Object.freeze([]),
  [CHANNEL_JAMMED]: Object.freeze(["inject", "by"]),
  [CHANNEL_CLEARED]: Object.freeze(["by"]),
  [CHANNEL_OPENED]: Object.freeze(["inject", "by"]),
  [CHANNEL_CLOSED]: Object.freeze(["inject", "by"]),
  [MOVE_STARTED]: Object.freeze(["by"]),
  [MOVE_ENDED]: Object.freeze([]),
  [DECISION_MADE]: Object.freeze(["rationale", "team", "position", "name", "participant"]),
  [ESCALATION_CHANGED]: Object.freeze(["by"]),
  [NOTE]: Object.freeze([]),
  [OBSERVATION]: Object.freeze(["finding"]),
  [FEEDBACK]: Object.freeze(["key", "answers"]),
  [IMPROVEMENT_PLAN]: Object.freeze([]),
  [KEY_FINDINGS]: Object.freeze([]),
  [INJECT_CANCELLED]: Object.freeze([]),
  [CHOICE_MADE]: Object.freeze([]),
  [PERSONA_POSTED]: Object.freeze([]),
  [ASSESSMENT]: Object.freeze(["position"]),
  [AI_DISCLOSURE]: Object.freeze([]),
});

/** Events that move the exercise clock: pages apply them to their clock. */
export const CLOCK_EVENTS = new Set([CLOCK_STARTED, CLOCK_PAUSED, CLOCK_RESUMED, SPEED_CHANGED, SESSION_ENDED, MOVE_STARTED, MOVE_ENDED]);

/** Events that change control's state summary (inject statuses, escalation, clock). */
export const SUMMARY_EVENTS = new Set([INJECT_RELEASED, INJECT_HELD, INJECT_UNHELD, INJECT_SKIPPED, INJECT_MOVED, INJECT_WRITTEN, INJECT_CANCELLED, CHOICE_MADE, DECISION_MADE, ESCALATION_CHANGED, CLOCK_STARTED, CLOCK_PAUSED, CLOCK_RESUMED, SPEED_CHANGED, SESSION_ENDED, MOVE_STARTED, MOVE_ENDED, CHANNEL_OPENED, CHANNEL_CLOSED, CHANNEL_JAMMED, CHANNEL_CLEARED]);

/** Events a participant wrote (or control spoofed), or its delivery. */
export const MESSAGE_EVENTS = new Set([MESSAGE, MESSAGE_SENT, MESSAGE_DELIVERED, MESSAGE_JAMMED, RELAY_NOTE, MESSAGE_READ_BACK]);

/** Events that change whether a channel carries messages (opened, closed, jammed, cleared). */
export const CHANNEL_EVENTS = new Set([CHANNEL_OPENED, CHANNEL_CLOSED, CHANNEL_JAMMED, CHANNEL_CLEARED]);
