"""Request-scoped glue shared by the web faces: the database session and error pages."""

from __future__ import annotations

from flask import Flask, current_app, g, render_template
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException, InternalServerError


def db_session() -> Session:
    """The request's session, opened on first use and closed at teardown."""
    if "db_session" not in g:
        g.db_session = current_app.extensions["tracemark.sessions"]()
    return g.db_session


def _close_session(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()


def _render_error(error: HTTPException):
    return render_template("error.html", error=error), error.code


def _render_unexpected(error: Exception):
    current_app.logger.exception("unhandled error", exc_info=error)
    return _render_error(InternalServerError())


def init_app(app: Flask) -> None:
    app.teardown_appcontext(_close_session)
    app.register_error_handler(HTTPException, _render_error)
    app.register_error_handler(Exception, _render_unexpected)
