"""Request-scoped glue shared by the web faces: session, settings, limits, errors, headers."""

from __future__ import annotations

from flask import Flask, current_app, g, jsonify, render_template, request
from flask_babel import gettext
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFError, CSRFProtect
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException, InternalServerError

from tracemark.config import Settings

#: Rate limits per client address; storage is Redis when configured (shared by all
#: workers and hosts), memory otherwise.
limiter = Limiter(key_func=get_remote_address, strategy="fixed-window")
#: CSRF tokens on every form post; the JSON API is exempt (no cookies, no forms).
csrf = CSRFProtect()

_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; script-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)


def settings() -> Settings:
    return current_app.config["TRACEMARK_SETTINGS"]


def db_session() -> Session:
    """The request's session, opened on first use and closed at teardown."""
    if "db_session" not in g:
        g.db_session = current_app.extensions["tracemark.sessions"]()
    return g.db_session


def wants_json() -> bool:
    return request.path.startswith("/api/") or (request.accept_mimetypes.best == "application/json")


def error_response(code: int, error: str, message: str):
    """The one way to answer an error: a JSON body for the API, a page for people."""
    if wants_json():
        return jsonify({"error": error, "message": message}), code
    return render_template("error.html", code=code, message=message), code


def _close_session(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()


_MESSAGES = {
    400: lambda: gettext("The request could not be understood."),
    404: lambda: gettext("There is nothing at this address."),
    405: lambda: gettext("This address does not accept that kind of request."),
    413: lambda: gettext("What you sent is too large."),
    429: lambda: gettext("Too many requests from your network. Please wait and try again."),
    500: lambda: gettext("Something went wrong on our side. Please try again later."),
}


def _http_error(error: HTTPException):
    code = error.code or 500
    message = _MESSAGES.get(code, _MESSAGES[500])()
    slug = (error.name or "error").lower().replace(" ", "_")
    return error_response(code, slug, message)


def _csrf_error(_error: CSRFError):
    return error_response(400, "csrf", gettext("This form has expired. Go back and try again."))


def _unexpected(error: Exception):
    current_app.logger.exception("unhandled error", exc_info=error)
    return _http_error(InternalServerError())


def _security_headers(response):
    headers = response.headers
    headers.setdefault("Content-Security-Policy", _CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "no-referrer")
    headers.setdefault("X-Frame-Options", "DENY")
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    return response


def init_app(app: Flask) -> None:
    app.teardown_appcontext(_close_session)
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)
    app.after_request(_security_headers)
    redis_url = app.config["TRACEMARK_SETTINGS"].redis_url
    app.config.setdefault("RATELIMIT_STORAGE_URI", redis_url or "memory://")
    # If Redis fails, let requests through rather than failing them; limits resume with it.
    app.config.setdefault("RATELIMIT_SWALLOW_ERRORS", True)
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    limiter.init_app(app)
    csrf.init_app(app)
