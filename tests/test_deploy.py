"""The nginx configuration in deploy/ in front of two workers on PostgreSQL and Redis."""

from __future__ import annotations

import secrets
import subprocess
import time

import pytest

from tabletop import ROOT

from .live_server import PASSWORD, Client, Server, free_port
from .services import need_program, postgres_url, redis_url

pytestmark = pytest.mark.slow


def test_game_through_nginx_with_two_workers(tmp_path):
    need_program("nginx")
    env = {"DATABASE_URL": postgres_url(), "MESSAGE_QUEUE": redis_url()}
    workers = [Server(tmp_path, **env), Server(tmp_path, **env)]
    name = f"ctl-{secrets.token_hex(4)}"
    assert workers[0].flask("facilitator", "create", name, "--password-stdin", stdin=PASSWORD + "\n").returncode == 0
    port = free_port()
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    conf = conf.replace("127.0.0.1:5001", f"127.0.0.1:{workers[0].port}").replace(
        "127.0.0.1:5002", f"127.0.0.1:{workers[1].port}"
    )
    conf = conf.replace("listen 8080;", f"listen 127.0.0.1:{port};")
    conf = conf.replace("/run/tabletop-nginx.pid", str(tmp_path / "nginx.pid"))
    conf = conf.replace("/var/log/nginx/tabletop-error.log", str(tmp_path / "nginx-error.log"))
    (tmp_path / "nginx.conf").write_text(conf)
    checked = subprocess.run(
        ["nginx", "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")], capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stderr
    for worker in workers:
        worker.start()
    proxy = subprocess.Popen(["nginx", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf"), "-g", "daemon off;"])
    try:
        front = Server.__new__(Server)
        front.url, front.port = f"http://127.0.0.1:{port}", port
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                token = front.login(name)
                break
            except Exception:  # noqa: BLE001 - nginx still starting
                time.sleep(0.1)
        info = front.post("/api/sessions", {"exercise": "minimal"}, token).json()
        control = Client(front, token, info["session"])
        control.connect()
        us = Client(front, front.join(info["codes"]["us"], "Alice", "j3")["token"])
        us.connect()
        assert control.call("clock", {"action": "start"})["ok"]
        us.wait_for(lambda e: e["type"] == "inject_released" and e["payload"]["inject"] == "shootdown")
        polling = Client(front, us.token)
        polling.sio.connect(front.url, auth={"token": us.token}, transports=["polling"], wait_timeout=10)
        assert polling.sio.call("sync", {"after": 0}, timeout=10)["ok"], "long-polling works through the proxy"
        polling.sio.disconnect()
    finally:
        proxy.terminate()
        proxy.wait(10)
        for worker in workers:
            worker.stop()
