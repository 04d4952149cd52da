"""The application factory: the one composition root that wires the web faces."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask

from tracemark import web
from tracemark.config import Settings
from tracemark.db import make_engine, make_sessionmaker

STATIC_DIR = Path(__file__).resolve().parents[1] / "static"


def create_app(
    settings: Settings | None = None, test_config: dict[str, Any] | None = None
) -> Flask:
    """Build the WSGI app from ``settings`` (default: the environment)."""
    settings = settings or Settings.from_env()
    app = Flask(
        "tracemark",
        static_folder=str(STATIC_DIR),
        template_folder=str(Path(__file__).resolve().parents[1] / "portal" / "templates"),
    )
    app.config.update(
        SECRET_KEY=settings.require_secret_key(),
        MAX_CONTENT_LENGTH=16 * 1024 * 1024,
        TRACEMARK_SETTINGS=settings,
    )
    if test_config:
        app.config.update(test_config)
    engine = make_engine(settings.database_url)
    app.extensions["tracemark.engine"] = engine
    app.extensions["tracemark.sessions"] = make_sessionmaker(engine)
    web.init_app(app)

    from portal import bp as portal_bp

    app.register_blueprint(portal_bp)

    @app.get("/healthz")
    def healthz():
        return {"status": "ok"}

    return app
