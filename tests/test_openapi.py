"""docs/openapi.yaml describes the HTTP API; schemathesis fuzzes a real server with it: no 5xx, and
every answer conforms to the document (status, content type, body)."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from tabletop import ROOT

from .live_server import PASSWORD, Server

pytestmark = pytest.mark.slow

SCHEMA = ROOT / "docs" / "openapi.yaml"


def test_the_document_names_every_api_route(app):
    document = yaml.safe_load(SCHEMA.read_text())
    assert document["openapi"].startswith("3.1")
    described = {
        (method.upper(), path) for path, item in document["paths"].items() for method in item if method != "parameters"
    }
    served = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/"):
            path = re.sub(r"<(?:\w+(?:\([^)]*\))?:)?(\w+)>", r"{\1}", rule.rule)
            served |= {(m, path) for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert described == served


def test_schemathesis_finds_no_server_error_and_no_nonconforming_answer(tmp_path: Path):
    server = Server(tmp_path, JOIN_RATE_LIMIT="10000 per minute")
    assert server.flask("facilitator", "create", "ctl", "--password-stdin", stdin=PASSWORD + "\n").returncode == 0
    server.start()
    try:
        token = server.login()
        server.post("/api/sessions", {"exercise": "minimal"}, token)
        started = time.monotonic()
        run = subprocess.run(
            [
                str(Path(sys.executable).parent / "schemathesis"),
                "run",
                str(SCHEMA),
                "--url",
                server.url,
                "-H",
                f"Authorization: Bearer {token}",
                "--checks",
                "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
                "--max-examples",
                "50",
                "--phases",
                "examples,coverage,fuzzing",
                "--seed",
                "16",
                "--workers",
                "1",
                "--generation-database",
                "none",
                "--request-timeout",
                "20",
                "--exclude-path",
                "/api/logout",  # it would revoke the token the rest of the run uses
                "--no-color",
            ],
            capture_output=True,
            text=True,
            timeout=240,
            cwd=tmp_path,
        )
        print(f"\n[schemathesis] {time.monotonic() - started:.1f} s\n" + run.stdout[-3000:])
        assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
        assert "Traceback" not in server.log.read_text()
    finally:
        server.stop()
