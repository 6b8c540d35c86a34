"""What the relay changed: an edited message classified as cosmetic or substantive by written rules.

`classify(original, forwarded)` compares what the sender wrote with what the intermediary passed on
and returns a `Verdict`: `substantive` when at least one substantive rule fires, else `cosmetic`
(or `unchanged`), with every rule that fired and what it saw ("will -> may"). The rules, in the
order they are tried (docs/report.md lists them for readers):

substantive
- `numbers`: a number, time, quantity or coordinate (digits, or a number word: "ten", "dozen")
  changed, was dropped or was added;
- `negation`: a negation ("not", "no", "never", "n't", "without"...) was dropped or added;
- `modality`: a modal of another strength replaced one, or one was dropped or added ("will" ->
  "may", "must" -> "should");
- `condition`: a condition ("if", "unless", "provided", "until", "as long as"...) was dropped or
  added;
- `names`: a named unit, ship, place or organisation (a capitalised word inside a sentence, an
  acronym) was dropped, added or replaced;
- `threat`: a word of threat or hostility ("hostile", "strike", "retaliate", "unsafe") was
  dropped, added or replaced ("hostile" -> "unfriendly");
- `sentence dropped` / `sentence added`: a whole sentence of the original is missing (less than
  a third of its words passed on), or the forwarded text has a sentence of the intermediary's own;

cosmetic (only when no substantive rule fired)
- `attribution`: the intermediary put its name in front ("Muscat passes on: ..."): a prefix up to
  a colon, of at most eight words, in which no substantive rule's words appear;
- `punctuation or case`: only punctuation, letter case or spacing changed;
- `wording`: other words changed, none of the kinds above.

Pure: text in, verdict out (no log, no script).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

SUBSTANTIVE = (
    "numbers",
    "negation",
    "modality",
    "condition",
    "names",
    "threat",
    "sentence dropped",
    "sentence added",
)
COSMETIC = ("attribution", "punctuation or case", "wording")

#: What each rule means, for the report's key and docs/report.md.
RULES: dict[str, str] = {
    "numbers": "a number, time, quantity or coordinate changed, was dropped or was added",
    "negation": "a negation (not, no, never, n't, without...) was dropped or added",
    "modality": "a modal of another strength (will, must, may, might, should...) replaced one, or one was dropped",
    "condition": "a condition (if, unless, provided, until, as long as...) was dropped or added",
    "names": "a named unit, ship, place or organisation was dropped, added or replaced",
    "threat": "a word of threat or hostility (hostile, strike, retaliate, unsafe...) was dropped, added or replaced",
    "sentence dropped": "a sentence of the original did not pass (less than a third of its words did)",
    "sentence added": "the forwarded text has a sentence of the intermediary's own",
    "attribution": "the intermediary put its name in front (Muscat passes on: ...)",
    "punctuation or case": "only punctuation, letter case or spacing changed",
    "wording": "other words changed, none of a substantive kind",
}

_TOKEN = re.compile(r"\w+(?:['’.\-/]\w+)*", re.UNICODE)
_SENTENCE = re.compile(r"(?<=[.!?;؟।])\s+|\n+")
_PREFIX = re.compile(r"^\s*([^:.!?\n]{1,80}):\s+")

NUMBER_WORDS = frozenset(
    [
        "zero",
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
        "eleven",
        "twelve",
        "thirteen",
        "fourteen",
        "fifteen",
        "sixteen",
        "seventeen",
        "eighteen",
        "nineteen",
        "twenty",
        "thirty",
        "forty",
        "fifty",
        "sixty",
        "seventy",
        "eighty",
        "ninety",
        "hundred",
        "thousand",
        "million",
        "dozen",
        "dozens",
        "half",
        "twice",
        "once",
    ]
)
NEGATIONS = frozenset(
    ["not", "no", "never", "none", "nor", "neither", "nothing", "nobody", "nowhere", "without", "cannot"]
)
# Modal strength: 3 commits, 2 expects, 1 allows.
MODALS: dict[str, int] = {
    "will": 3,
    "shall": 3,
    "must": 3,
    "won't": 3,
    "certainly": 3,
    "definitely": 3,
    "should": 2,
    "would": 2,
    "ought": 2,
    "likely": 2,
    "can": 2,
    "cannot": 2,
    "can't": 2,
    "may": 1,
    "might": 1,
    "could": 1,
    "possibly": 1,
    "perhaps": 1,
    "maybe": 1,
}
CONDITIONS = ("if", "unless", "provided", "providing", "until", "otherwise", "except")
CONDITION_PHRASES = ("as long as", "so long as", "on condition", "in case", "only if", "subject to")
# Stems of threat and hostility words (a token matches the first stem it starts with).
THREAT_STEMS = (
    "threat",
    "hostil",
    "unfriendl",
    "attack",
    "strike",
    "struck",
    "retaliat",
    "destroy",
    "sink",
    "shoot",
    "shot",
    "kill",
    "enem",
    "aggress",
    "provocat",
    "provoke",
    "warn",
    "ultimat",
    "consequenc",
    "unsafe",
    "danger",
    "risk",
    "war",
    "target",
    "violat",
    "invad",
    "invasion",
    "seize",
    "punish",
    "harsh",
    "crush",
    "severe",
    "weapon",
    "missile",
    "fire",
    "firing",
)
NOT_THREAT = frozenset(
    ["warm", "warmly", "ward", "wardroom", "forcefully", "firefighter", "firefighters", "fireman", "reinforce"]
)


@dataclass(frozen=True)
class Hit:
    """A rule that fired, with what it saw."""

    rule: str
    detail: str

    @property
    def substantive(self) -> bool:
        return self.rule in SUBSTANTIVE


@dataclass(frozen=True)
class Verdict:
    kind: str  # substantive | cosmetic | unchanged
    hits: tuple[Hit, ...]

    @property
    def rules(self) -> tuple[str, ...]:
        return tuple(h.rule for h in self.hits)

    def text(self) -> str:
        """`modality (will -> may); threat (hostile -> unfriendly)`."""
        return "; ".join(f"{h.rule} ({h.detail})" if h.detail else h.rule for h in self.hits)


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.replace("’", "'"))


def _low(words: Iterable[str]) -> list[str]:
    return [w.lower() for w in words]


def _change(removed: Counter[str], added: Counter[str]) -> str:
    """`will x2 -> may x2`, `dropped: unless`, `added: if`."""

    def say(c: Counter[str]) -> str:
        return ", ".join(f"{w} x{n}" if n > 1 else w for w, n in c.items())

    if removed and added:
        return f"{say(removed)} -> {say(added)}"
    if removed:
        return f"dropped: {say(removed)}"
    return f"added: {say(added)}"


def _compare(rule: str, before: Iterable[str], after: Iterable[str]) -> Hit | None:
    a, b = Counter(before), Counter(after)
    removed, added = a - b, b - a
    return Hit(rule, _change(removed, added)) if removed or added else None


def numbers(words: list[str]) -> list[str]:
    found = []
    for w in words:
        if any(ch.isdigit() for ch in w):
            found.append(w.replace(",", "").rstrip("."))
        elif w.lower() in NUMBER_WORDS:
            found.append(w.lower())
    return found


def negations(words: list[str]) -> list[str]:
    return [w if w in NEGATIONS else "n't" for w in _low(words) if w in NEGATIONS or w.endswith("n't")]


def modals(words: list[str]) -> list[str]:
    return [w for w in _low(words) if w in MODALS]


def conditions(text: str) -> list[str]:
    low = " " + " ".join(_low(tokens(text))) + " "
    found = [p for p in CONDITION_PHRASES for _ in range(low.count(f" {p} "))]
    for p in CONDITION_PHRASES:  # "only if" is counted once, as itself
        low = low.replace(f" {p} ", " ")
    return found + [w for w in low.split() if w in CONDITIONS]


def threats(words: list[str]) -> list[str]:
    found = []
    for w in _low(words):
        if w in NOT_THREAT:
            continue
        stem = next((s for s in THREAT_STEMS if w.startswith(s)), None)
        if stem is not None and not (stem == "war" and w not in ("war", "wars", "warlike", "warfare")):
            found.append(w)
    return found


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.split(text) if s.strip()]


def names(text: str) -> list[str]:
    """Named things: capitalised words inside a sentence and acronyms (not the first word of a
    sentence unless it is an acronym; not "I")."""
    found = []
    for sentence in sentences(text):
        for n, w in enumerate(tokens(sentence)):
            letters = [c for c in w if c.isalpha()]
            if not letters or w == "I" or w.lower() in MODALS or w.lower() in NEGATIONS:
                continue
            acronym = len(letters) >= 2 and all(c.isupper() for c in letters)
            if acronym or (n > 0 and w[0].isupper()):
                found.append(w)
    return found


def _content(words: list[str]) -> set[str]:
    return {w for w in _low(words) if len(w) >= 3 or any(c.isdigit() for c in w)}


def _uncovered(these: list[str], other: set[str]) -> list[str]:
    """Sentences of `these` of which less than a third of the words (3+ letters) are in `other`."""
    missing = []
    for sentence in these:
        words = _content(tokens(sentence))
        if len(words) >= 2 and len(words & other) < len(words) / 3:
            missing.append(sentence)
    return missing


def _quote(sentence: str, limit: int = 60) -> str:
    text = " ".join(sentence.split())
    return '"' + (text if len(text) <= limit else text[: limit - 1].rstrip() + "…") + '"'


def attribution(original: str, forwarded: str) -> tuple[str, str]:
    """(prefix, rest): the intermediary's own lead-in before a colon, when the original has none like
    it and the prefix says nothing a substantive rule would see; else ("", forwarded)."""
    found = _PREFIX.match(forwarded)
    if found is None:
        return "", forwarded
    prefix = found.group(1)
    if original.lstrip().lower().startswith(prefix.strip().lower()):
        return "", forwarded
    words = tokens(prefix)
    if len(words) > 8 or numbers(words) or negations(words) or modals(words) or threats(words):
        return "", forwarded
    if conditions(prefix):
        return "", forwarded
    return prefix.strip(), forwarded[found.end() :]


def _plain(text: str) -> str:
    return " ".join(_low(tokens(text)))


def classify(original: str, forwarded: str) -> Verdict:
    """The rules that fire between what was written and what was passed on."""
    if original == forwarded:
        return Verdict("unchanged", ())
    prefix, body = attribution(original, forwarded)
    a, b = tokens(original), tokens(body)
    hits = [
        _compare("numbers", numbers(a), numbers(b)),
        _compare("negation", negations(a), negations(b)),
        _compare("modality", modals(a), modals(b)),
        _compare("condition", conditions(original), conditions(body)),
        _compare("names", names(original), names(body)),
        _compare("threat", threats(a), threats(b)),
    ]
    found = [h for h in hits if h is not None]
    dropped = _uncovered(sentences(original), _content(b))
    if dropped:
        found.append(Hit("sentence dropped", "; ".join(_quote(s) for s in dropped)))
    added = _uncovered(sentences(body), _content(a))
    if added:
        found.append(Hit("sentence added", "; ".join(_quote(s) for s in added)))
    if found:
        return Verdict("substantive", tuple(found))
    cosmetic = []
    if prefix:
        cosmetic.append(Hit("attribution", _quote(prefix + ":")))
    if body.strip() != original.strip():
        if _plain(body) == _plain(original):
            cosmetic.append(Hit("punctuation or case", ""))
        else:
            cosmetic.append(_compare("wording", _low(a), _low(b)) or Hit("wording", ""))
    if not cosmetic:
        return Verdict("unchanged", ())
    return Verdict("cosmetic", tuple(cosmetic))
