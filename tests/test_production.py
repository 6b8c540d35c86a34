"""Production mode refuses unsafe configuration."""

from __future__ import annotations

import pytest

from tabletop.web import create_app
from tabletop.web.production import UnsafeConfig


def base(tmp_path, **extra):
    return {"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path / 'p.db'}", "ENV_NAME": "production", **extra}


@pytest.mark.parametrize("key", ["dev", "change-me", "short-but-set"])
def test_weak_or_default_secret_is_refused_in_production(tmp_path, key):
    with pytest.raises(UnsafeConfig, match="SECRET_KEY"):
        create_app(base(tmp_path, SECRET_KEY=key))


def test_generated_instance_secret_is_refused_in_production(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(UnsafeConfig, match="the default key is refused"):
        create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path / 'p.db'}", "ENV_NAME": "production"})


def test_public_message_queue_is_refused(tmp_path):
    with pytest.raises(UnsafeConfig, match="not on loopback or a private network"):
        create_app(base(tmp_path, SECRET_KEY="x" * 40, MESSAGE_QUEUE="redis://8.8.8.8:6379/0"))


def test_strong_secret_and_loopback_queue_are_accepted(tmp_path):
    app = create_app(base(tmp_path, SECRET_KEY="k" * 64, MESSAGE_QUEUE=None))
    assert app.config["ENV_NAME"] == "production"
    app.extensions["tabletop"].close()
