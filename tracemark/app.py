"""The application factory: the one composition root that wires the web faces."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.middleware.proxy_fix import ProxyFix

from tracemark import i18n, migrate, web
from tracemark.codes.keycache import KeyCache
from tracemark.codes.keystore import load_keyring
from tracemark.config import Settings
from tracemark.db import make_engine, make_scan_engine, make_sessionmaker
from tracemark.scanning.batch_view import BatchViewCache

ROOT = Path(__file__).resolve().parents[1]
log = logging.getLogger(__name__)


def create_app(
    settings: Settings | None = None, test_config: dict[str, Any] | None = None
) -> Flask:
    """Build the WSGI app from ``settings`` (default: the environment)."""
    settings = settings or Settings.from_env()
    app = Flask(
        "tracemark",
        static_folder=str(ROOT / "static"),
        template_folder=str(ROOT / "portal" / "templates"),
    )
    app.config.update(
        SECRET_KEY=settings.require_secret_key(),
        MAX_CONTENT_LENGTH=16 * 1024 * 1024,
        TRACEMARK_SETTINGS=settings,
        TRACEMARK_SCAN_LIMIT=settings.scan_rate_limit,
        TRACEMARK_CLAIM_LIMIT=settings.claim_rate_limit,
        TRACEMARK_REPORT_LIMIT=settings.report_rate_limit,
        TRACEMARK_LOGIN_LIMIT=settings.login_rate_limit,
        TRACEMARK_API_LIMIT=settings.api_rate_limit,
        TRACEMARK_API_AUTH_FAILURE_LIMIT=settings.api_auth_failure_limit,
        TRACEMARK_COUNTRY_HEADER=settings.country_header,
        # the country header is believed only when a proxy in front sets it
        TRACEMARK_PROXIES=settings.proxies,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        # Secure always when configured; otherwise admin.auth marks it Secure per request
        # whenever the request came over HTTPS.
        SESSION_COOKIE_SECURE=settings.secure_cookies,
    )
    if test_config:
        app.config.update(test_config)
    if settings.proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.proxies, x_proto=settings.proxies)
    engine = make_engine(settings.database_url)
    sessions = make_sessionmaker(engine)
    app.extensions["tracemark.engine"] = engine
    app.extensions["tracemark.sessions"] = sessions
    scan_engine = make_scan_engine(engine)
    app.extensions["tracemark.scan_engine"] = scan_engine
    app.extensions["tracemark.scan_sessions"] = make_sessionmaker(scan_engine)
    app.extensions["tracemark.keys"] = _warm_key_cache(sessions)
    app.extensions["tracemark.batch_views"] = BatchViewCache(settings.batch_view_ttl)
    web.init_app(app)
    i18n.init_app(app, str(ROOT / "translations"))

    import admin.auth
    from admin import bp as admin_bp
    from api import bp as integration_bp
    from portal import bp as portal_bp
    from portal.verify_api import bp as api_bp

    app.register_blueprint(portal_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(integration_bp)
    admin.auth.init_app(app)
    web.csrf.exempt(api_bp)
    web.csrf.exempt(integration_bp)
    web.init_rate_limits(app)

    @app.get("/healthz")
    def healthz():
        """Liveness: the process answers."""
        return {"status": "ok"}

    head = migrate.head_revision()

    @app.get("/readyz")
    def readyz():
        """Readiness: the database answers and its schema is the one this code expects."""
        try:
            current = migrate.current_revision(engine)
        except SQLAlchemyError:
            return {"status": "unavailable", "reason": "database_unreachable"}, 503
        if current != head:
            return {"status": "unavailable", "reason": "migrations_pending"}, 503
        return {"status": "ok", "revision": current}

    return app


def close(app: Flask) -> None:
    """Close the app's database connections (both pools): for tests and scripts that
    build apps and must not leave connections open on the server."""
    app.extensions["tracemark.scan_engine"].dispose()
    app.extensions["tracemark.engine"].dispose()


def _warm_key_cache(sessions) -> KeyCache:
    """Remember every public key now, so scans verify even if the database goes away."""
    cache = KeyCache()
    try:
        with sessions() as session:
            cache.remember_all(load_keyring(session))
    except SQLAlchemyError:
        log.warning("could not load signing keys at start; they will be learnt per scan")
    return cache
