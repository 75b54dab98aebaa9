"""Wijkkaart: a participation map for Dutch neighbourhoods."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask

from kaart import db, i18n, textcheck
from kaart.config import Settings
from kaart.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app. ``test_config`` may hold ``settings`` (a Settings) and ``db_bind``."""
    test_config = test_config or {}
    app = Flask(
        __name__,
        static_folder=str(ROOT / "static"),
        template_folder=str(ROOT / "templates"),
    )
    settings = test_config.get("settings") or Settings.from_env()
    if not isinstance(settings, Settings):
        raise ConfigError("settings must be a kaart.config.Settings")
    app.config.update(
        KAART=settings,
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=settings.max_body_bytes,
        JSON_SORT_KEYS=False,
        TEMPLATES_AUTO_RELOAD=False,
    )
    db.init_app(app, bind=test_config.get("db_bind"))
    i18n.init_app(app)
    textcheck.init_app(app)  # before anything reads the request (CSRF, views, rate limits)

    from kaart import auth, errors_http, security, supporters, views
    from kaart.services import users
    from kaart.views import tiles_direct

    auth.init_app(app)
    users.set_hash_cost(settings.password_hash_time_cost, settings.password_hash_memory_kib)
    supporters.init_app(app)
    views.register(app)
    errors_http.init_app(app)
    security.init_app(app)
    tiles_direct.install(app)  # last: the outermost WSGI layer
    return app
