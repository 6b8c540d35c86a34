"""HTML pages: the facilitator's library, set-up and console; the join page, team rooms,
the observers' page, the hotwash and attachments. The live parts run in static/js over Socket.IO.

Facilitators log in with a form (Flask session); participants take a seat with a join code and
keep its token in the Flask session, so a reload brings them back to the same seat. Who is asking
is in `g`, loaded before the request by auth.py; the views only read it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)

from tabletop.engine import Refused
from tabletop.engine.rules import feedback_key
from tabletop.engine.state import TEAM_CHANNEL
from tabletop.script.models import Question, from_snapshot
from tabletop.script.paths import ATTACHMENT_TYPES, PathRefused, resolve_attachment
from tabletop.seats import JoinRefused, join, look_up
from tabletop.sessions import NotFound, create_session, find_exercise, session_info
from tabletop.text import markdown_html

from .auth import (
    actor_for,
    facilitator_page,
    forget_facilitator,
    is_admin,
    may_run,
    participant_page,
    remember_facilitator,
    remember_seat,
)
from .cluster import cluster, revoke_token
from .extensions import failed, join_limit, limiter
from .pagedata import library, may_fetch_attachment, moves_view, msel_rows, qr_svg, script_view, store_upload
from .runtime import runtime

pages = Blueprint("pages", __name__)


def _dirs() -> tuple[Path, Path]:
    cfg = current_app.config
    return Path(cfg["EXERCISES_DIR"]), Path(cfg["INJECTS_DIR"])


# ------------------------------------------------------------ facilitators
def _safe_next(target: str | None) -> str:
    """Only a path on this server: never another host."""
    if not target:
        return url_for("pages.library_page")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return url_for("pages.library_page")
    return target


@pages.app_context_processor
def inject_user() -> dict[str, Any]:
    who = g.get("facilitator")
    return {"facilitator_name": who.name if who is not None else None}


@pages.get("/")
def index() -> Any:
    """The front door: join with a code, or log in to run exercises."""
    if g.facilitator is not None:
        return redirect(url_for("pages.library_page"))
    return render_template("index.html")


@pages.route("/login", methods=["GET", "POST"])
@limiter.limit(join_limit, methods=["POST"], deduct_when=failed)
def login() -> Any:
    error = None
    if request.method == "POST":
        username = request.form.get("username", "")[:80]
        password = request.form.get("password", "")[:200]
        identity = runtime().store.check_facilitator(username, password)
        if identity is not None:
            remember_facilitator(identity, runtime().store.issue_token("facilitator", identity.id))
            return redirect(_safe_next(request.args.get("next")))
        error = "Wrong username or password."
    username = request.form.get("username", "")[:80] if request.method == "POST" else ""
    return render_template("login.html", error=error, username=username), 401 if error else 200


@pages.post("/logout")
def logout() -> Any:
    """Log out: the login's token is revoked (its open connections, the console's too, are closed)."""
    if g.facilitator is not None and g.facilitator_token:
        revoke_token(g.facilitator_token, "logout")
    forget_facilitator()
    return redirect(url_for("pages.index"))


# ----------------------------------------------------------------- library
def _render_library(upload: Any = None, status: int = 200) -> Any:
    exercises_dir, injects_dir = _dirs()
    rows = library(exercises_dir, injects_dir)
    sessions = [s for s in runtime().store.list_sessions() if may_run(g.facilitator, s)][:30]
    return render_template(
        "library.html", rows=rows, sessions=sessions, upload=upload, admin=is_admin(g.facilitator)
    ), status


@pages.get("/library")
@facilitator_page
def library_page() -> Any:
    return _render_library()


@pages.post("/library/upload")
@facilitator_page
def upload() -> Any:
    """A new script: every problem shown inline with its line, nothing stored unless it is valid."""
    exercises_dir, injects_dir = _dirs()
    sent = request.files.get("script")
    raw = sent.read() if sent else b""
    result = store_upload(
        raw, (sent.filename if sent else "") or "", exercises_dir, injects_dir, bool(request.form.get("replace"))
    )
    if result.ok:
        flash(f"{result.exercise.title if result.exercise else ''}: {result.message}", "ok")
        return redirect(url_for("pages.library_page"))
    return _render_library(result, 422 if result.problems else 409 if result.needs_confirm else 400)


@pages.get("/library/<exercise_id>")
@facilitator_page
def preview(exercise_id: str) -> Any:
    """A script's read-only MSEL timeline, before running it."""
    exercises_dir, injects_dir = _dirs()
    try:
        exercise = find_exercise(exercise_id[:64], exercises_dir, injects_dir)
    except NotFound:
        abort(404)
    return render_template(
        "preview.html",
        exercise=exercise,
        rows=msel_rows(exercise),
        moves=moves_view(exercise),
        names=_names(exercise),
        summary_html=markdown_html(exercise.summary),
        briefs={t.id: markdown_html(t.brief) for t in exercise.teams},
    )


def _names(exercise: Any) -> dict[str, str]:
    """What a person reads for the ids of a script: team names, position titles, "Team: position"."""
    names = {"control": "Exercise control"}
    for team in exercise.teams:
        names[team.id] = team.name
        for position in team.positions:
            names.setdefault(position.id, position.title)
            names[f"{team.id}/{position.id}"] = f"{team.name}: {position.title}"
    return names


@pages.post("/sessions")
@facilitator_page
def new_session() -> Any:
    exercises_dir, injects_dir = _dirs()
    try:
        info = create_session(
            runtime().store, request.form.get("exercise", "")[:64], exercises_dir, injects_dir, g.facilitator.id
        )
    except NotFound as exc:
        flash(str(exc), "error")
        return redirect(url_for("pages.library_page"))
    return redirect(url_for("pages.setup", session_id=info["session"]))


# ------------------------------------------------------------------ set-up
def _session_or_404(session_id: str) -> Any:
    row = runtime().store.get_session(session_id[:32])
    if row is None:
        abort(404)
    return row


def _codes(session_id: str) -> list[dict[str, Any]]:
    info = session_info(runtime().store, session_id)
    exercise = from_snapshot(_session_or_404(session_id).script)
    base = public_base()
    codes = []
    for team in exercise.teams:
        code = info["codes"].get(team.id)
        if code:
            url = f"{base}{url_for('pages.join_page', code=code)}"
            codes.append({"key": team.id, "label": team.name, "code": code, "url": url})
    if info["observer_code"]:
        url = f"{base}{url_for('pages.join_page', code=info['observer_code'])}"
        codes.append({"key": "observers", "label": "Observers", "code": info["observer_code"], "url": url})
    return codes


LOOPBACK = ("127.", "localhost", "::1", "[::1]")


def public_base() -> str:
    """Where players reach this server: the PUBLIC_URL setting, else the address the facilitator typed."""
    return (current_app.config.get("PUBLIC_URL") or request.host_url).rstrip("/")


def reach_warning() -> dict[str, str] | None:
    """Why players may not reach the join links, and the fix: the server listens only on loopback, or the
    links carry a loopback address (no PUBLIC_URL and the facilitator opened the page as localhost)."""
    listen = str(current_app.config.get("LISTEN_HOST") or "")
    public = str(current_app.config.get("PUBLIC_URL") or "")
    host = urlsplit(public_base()).hostname or ""
    if listen.startswith(LOOPBACK):
        return {"kind": "listen", "listen": listen, "host": host}
    if not public and host.startswith(LOOPBACK[:3]):
        return {"kind": "links", "listen": listen, "host": host}
    return None


@pages.get("/console/<session_id>/setup")
@facilitator_page
def setup(session_id: str) -> Any:
    """Join codes with links and QR codes, and who has joined in which position."""
    row = _session_or_404(session_id)
    exercise = from_snapshot(row.script)
    codes = [{**c, "qr": qr_svg(c["url"], f"QR code for {c['label']}: {c['url']}")} for c in _codes(row.id)]
    positions = {p.id: p.title for t in exercise.teams for p in t.positions}
    teams = {t.id: t.name for t in exercise.teams}
    online = set(cluster().presence.online(row.id))  # connected to any worker now
    people = [
        {
            "id": p.id,
            "name": p.name,
            "kind": p.kind,
            "team": teams.get(p.team or "", ""),
            "position": positions.get(p.position or "", ""),
            "watches": ", ".join(teams.get(t, t) for t in p.teams),
            "online": p.id in online,
        }
        for p in runtime().store.participants(row.id, removed=False)  # seated now
    ]
    info = session_info(runtime().store, row.id)
    return render_template(
        "setup.html",
        row=row,
        exercise=exercise,
        codes=codes,
        people=people,
        observer_teams=info["observer_teams"],
        script=script_view(exercise),
        token=g.facilitator_token,
        warning=reach_warning(),
    )


@pages.post("/console/<session_id>/observers")
@facilitator_page
def observer_teams(session_id: str) -> Any:
    row = _session_or_404(session_id)
    names = {t.id: t.name for t in from_snapshot(row.script).teams}
    chosen = [t for t in request.form.getlist("teams") if t in names]
    if not chosen:
        flash("Observers must watch at least one team.", "error")
    else:
        runtime().store.set_observer_teams(row.id, chosen)
        flash("Observers who join from now on watch: " + ", ".join(names[t] for t in chosen) + ".", "ok")
    return redirect(url_for("pages.setup", session_id=row.id))


@pages.get("/console/<session_id>/project/<key>")
@facilitator_page
def project(session_id: str, key: str) -> Any:
    """One join code, large, to put on a projector."""
    row = _session_or_404(session_id)
    found = next((c for c in _codes(row.id) if c["key"] == key), None)
    if found is None:
        abort(404)
    qr = qr_svg(found["url"], f"QR code for {found['label']}: {found['url']}")
    return render_template("project.html", row=row, code=found, qr=qr)


@pages.get("/console/<session_id>")
@facilitator_page
def console(session_id: str) -> Any:
    """The live control room (static/js/console.js)."""
    row = _session_or_404(session_id)
    exercise = from_snapshot(row.script)
    return render_template(
        "console.html", row=row, exercise=exercise, script=script_view(exercise), token=g.facilitator_token
    )


# ------------------------------------------------------------ participants
@pages.route("/join", methods=["GET", "POST"])
@limiter.limit(join_limit, deduct_when=failed)
def join_page() -> Any:
    """Step 1: the join code. Step 2 (code recognised): a display name and a position of the team."""
    rt = runtime()
    form = request.form if request.method == "POST" else request.args
    code = form.get("code", "").strip()[:32]
    if not code:
        return render_template("join.html", info=None, code="", error=None)
    try:
        info = look_up(rt.live, code)
    except JoinRefused as exc:
        return render_template("join.html", info=None, code=code, error=exc.message), exc.status
    if request.method == "GET" or "name" not in request.form:
        return render_template("join.html", info=info, code=info.code, error=None, name="", position=None)
    name, position = request.form.get("name", "")[:200], request.form.get("position") or None
    try:
        seat = join(rt.live, info.code, name, position if info.kind == "player" else None)
    except JoinRefused as exc:
        page = render_template("join.html", info=info, code=info.code, error=exc.message, name=name, position=position)
        return page, exc.status
    remember_seat(seat.session, seat.token)
    target = "pages.room" if seat.kind == "player" else "pages.observe"
    return redirect(url_for(target, session_id=seat.session))


def _elsewhere(kind: str) -> Any:
    """A redirect to the participant's own page when this one is for the other kind, else None."""
    identity = g.participant
    if identity.kind == kind:
        return None
    target = "pages.room" if identity.kind == "player" else "pages.observe"
    return redirect(url_for(target, session_id=identity.session_id))


@pages.get("/room/<session_id>")
@participant_page
def room(session_id: str) -> Any:
    """A player's team room (static/js/room.js)."""
    if (other := _elsewhere("player")) is not None:
        return other
    identity, row = g.participant, _session_or_404(session_id)
    exercise = from_snapshot(row.script)
    team = exercise.team(identity.team or "")
    position = next((p for p in team.positions if p.id == identity.position), None)
    return render_template(
        "room.html",
        row=row,
        exercise=exercise,
        me=identity,
        team=team,
        position=position,
        brief_html=markdown_html(team.brief),
        token=g.participant_token,
    )


@pages.get("/observe/<session_id>")
@participant_page
def observe(session_id: str) -> Any:
    """An observer's read-only feeds and the observation form (static/js/observer.js)."""
    if (other := _elsewhere("observer")) is not None:
        return other
    identity, row = g.participant, _session_or_404(session_id)
    exercise = from_snapshot(row.script)
    watched = [t for t in exercise.teams if t.id in identity.teams]
    return render_template(
        "observer.html",
        row=row,
        exercise=exercise,
        me=identity,
        watched=watched,
        script=script_view(exercise),
        token=g.participant_token,
    )


@pages.route("/hotwash/<session_id>", methods=["GET", "POST"])
@participant_page
def hotwash(session_id: str) -> Any:
    """After the end: each participant's short feedback (strengths, improvements, channel ratings) and
    the answers to the script's own hotwash questions (format 2), checked by the `feedback` command."""
    identity = g.participant
    rt = runtime()
    state = rt.live.current(identity.session_id or "")
    if feedback_key(actor_for(identity)) in state.feedback:
        return redirect(url_for("pages.thanks", session_id=session_id))
    channels = [{"id": TEAM_CHANNEL, "name": "Team chat"}] + [
        {"id": c.id, "name": c.name} for c in state.exercise.channels
    ]
    if identity.kind == "observer":
        channels = channels[1:]
    error = None
    questions = state.exercise.hotwash.questions
    answers: dict[str, int | str] = {}
    if request.method == "POST":
        answers = hotwash_answers(questions, request.form)
        ratings = {}
        for channel in channels:
            value = request.form.get(f"rating-{channel['id']}", "")
            if value.isdigit() and 1 <= int(value) <= 5:
                ratings[channel["id"]] = int(value)
        payload = {
            "strengths": request.form.get("strengths", "")[:4000],
            "improvements": request.form.get("improvements", "")[:4000],
            "channels": ratings,
            "client_id": f"hotwash-{identity.id}",
            **({"answers": answers} if answers else {}),
        }
        try:
            rt.live.command(identity.session_id or "", actor_for(identity), "feedback", payload)
        except Refused as exc:
            if exc.code != "already_sent":
                error = exc.message
        if error is None:
            return redirect(url_for("pages.thanks", session_id=session_id))
    return render_template(
        "hotwash.html",
        row=_session_or_404(session_id),
        me=identity,
        channels=channels,
        questions=questions,
        answers=answers,
        ended=state.ended,
        error=error,
    ), (400 if error else 200)


def hotwash_answers(questions: Sequence[Question], form: Any) -> dict[str, int | str]:
    """The form's answers to the script's questions, as the `feedback` command takes them (which checks
    them): a scale's choice as a number (anything else is passed on as sent, and refused there)."""
    answers: dict[str, int | str] = {}
    for question in questions:
        value = form.get(f"answer-{question.id}", "")[:4000]
        if question.kind == "scale":
            if value:
                answers[question.id] = int(value) if value.isdigit() and len(value) < 3 else value
        elif value.strip():
            answers[question.id] = value
    return answers


@pages.get("/thanks/<session_id>")
@participant_page
def thanks(session_id: str) -> Any:
    """After the hotwash: thanks, and where the report stands."""
    identity = g.participant
    rt = runtime()
    state = rt.live.current(identity.session_id)
    report = rt.store.latest_report(identity.session_id)
    return render_template(
        "thanks.html",
        row=_session_or_404(session_id),
        me=identity,
        sent=feedback_key(actor_for(identity)) in state.feedback,
        answered=len(state.feedback),
        total=len(rt.store.participants(identity.session_id, removed=False)),
        report=None if report is None else {"status": report.status, "progress": report.progress},
    )


# ------------------------------------------------------------- attachments
@pages.get("/attachments/<session_id>/<path:name>")
def attachment(session_id: str, name: str) -> Any:
    """An inject's attachment, for participants whose team received it (facilitators always)."""
    row = _session_or_404(session_id)
    is_facilitator = g.facilitator is not None
    identity = None if is_facilitator else g.participant
    if not is_facilitator and identity is None:
        abort(403)
    state = runtime().live.current(row.id)
    if not may_fetch_attachment(state, identity, is_facilitator, name):
        abort(404)
    exercises_dir, injects_dir = _dirs()
    try:
        path = resolve_attachment(name, exercises_dir, injects_dir)
    except PathRefused:
        abort(404)
    kind = ATTACHMENT_TYPES[path.suffix.lower()]
    response = send_file(path, mimetype=kind, max_age=300, download_name=path.name, as_attachment=False)
    response.headers["Cache-Control"] = "private, max-age=300"
    if kind in ("image/svg+xml", "application/pdf", "text/plain"):
        # Opened on its own, an SVG may not run script nor reach anything: a sandboxed document.
        response.headers["Content-Security-Policy"] = (
            "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:"
        )
    return response


@pages.app_template_filter("sentence")
def sentence(text: str | None) -> str:
    """A message as a sentence a person reads: it starts with a capital."""
    text = str(text or "")
    return text[:1].upper() + text[1:]


@pages.app_template_filter("banner_class")
def banner_class(text: str | None) -> str:
    """The colour of a classification banner (the usual marking colours; grey when unknown)."""
    marking = (text or "").strip().upper()
    for prefix, css in (
        ("TOP SECRET", "cls-top-secret"),
        ("SECRET", "cls-secret"),
        ("CONFIDENTIAL", "cls-confidential"),
        ("UNCLASSIFIED", "cls-unclassified"),
    ):
        if marking.startswith(prefix):
            return css
    return ""
