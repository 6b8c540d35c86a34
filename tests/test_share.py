"""Share links (web/share.py): one kind of link never opens another, and none outlives MAX_SHARE_HOURS."""

from __future__ import annotations

import time

from flask import Flask

from tabletop.web import reports, tape
from tabletop.web.share import MAX_SHARE_HOURS, read_token, sign_token


def make_app() -> Flask:
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "k"
    return app


def test_a_report_link_never_opens_a_tape_nor_a_tape_link_a_report():
    app = make_app()
    report_token = reports.share_token(app, 7, 2.0)
    tape_token = tape.share_token(app, "abc", 2.0, None)
    assert reports.read_share_token(app, report_token) == (7, "")
    assert tape.read_share_token(app, report_token) == (None, "invalid")
    assert reports.read_share_token(app, tape_token) == (None, "invalid")


def test_a_link_that_claims_more_hours_than_allowed_expires_at_the_limit():
    app = make_app()
    token = sign_token(app, "salt", {"x": 1}, MAX_SHARE_HOURS * 10)
    assert read_token(app, "salt", token, {"x": int}) == ({"x": 1, "h": float(MAX_SHARE_HOURS * 10)}, "")
    later = time.time() + (MAX_SHARE_HOURS + 1) * 3600
    assert read_token(app, "salt", token, {"x": int}, now=later) == (None, "expired")


def test_a_signed_link_whose_fields_have_the_wrong_types_is_invalid():
    app = make_app()
    assert read_token(app, "salt", sign_token(app, "salt", {"x": "1"}, 1), {"x": int}) == (None, "invalid")
    assert read_token(app, "salt", sign_token(app, "salt", {}, 1), {"x": int}) == (None, "invalid")


def test_a_tape_link_that_cannot_be_served_gets_a_short_page_never_a_traceback(app, client):
    fresh = tape.share_token(app, "no-such-session", 2.0, None)
    old = sign_token(app, tape.SHARE_SALT, {"s": "no-such-session", "v": "*"}, 2.0, signed_at=time.time() - 3 * 3600)
    for token, status, words in (
        (fresh, 404, b"no longer available"),
        (old, 403, b"expired"),
        (fresh[:-2] + ("AA" if fresh[-2:] != "AA" else "BB"), 404, b"not valid"),
    ):
        page = client.get(f"/tape/shared/{token}")
        assert page.status_code == status and words in page.data and b"Traceback" not in page.data
        moment = client.get(f"/tape/shared/{token}/moment")
        assert moment.status_code == 403 and moment.get_json()["error"]["code"] == "link"
