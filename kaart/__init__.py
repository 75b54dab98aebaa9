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

    from kaart import errors_http, security
    from kaart.views import api, health, public, tiles

    app.register_blueprint(public.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(tiles.bp)
    from kaart.views import coop

    app.register_blueprint(coop.bp)
    from kaart.views import ogc, open311, openapi

    app.register_blueprint(ogc.bp)
    app.register_blueprint(open311.bp)
    app.register_blueprint(openapi.bp)
    from kaart.views import beheer_overview, exports, photos

    app.register_blueprint(photos.bp)
    app.register_blueprint(beheer_overview.bp)
    app.register_blueprint(exports.bp)
    from kaart import auth
    from kaart.views import auth as auth_views
    from kaart.views import beheer, dialogue, processes

    auth.init_app(app)
    app.register_blueprint(auth_views.bp)
    app.register_blueprint(beheer.bp)
    app.register_blueprint(dialogue.bp)
    app.register_blueprint(processes.bp)
    errors_http.init_app(app)
    security.init_app(app)
    return app
