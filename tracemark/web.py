"""Request-scoped glue shared by the web faces: session, settings, limits, errors, headers."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable
from functools import wraps
from pathlib import Path

from flask import Flask, current_app, g, jsonify, make_response, render_template, request
from flask_babel import gettext
from flask_wtf.csrf import CSRFError, CSRFProtect
from markupsafe import Markup
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException, InternalServerError, NotFound, TooManyRequests
from werkzeug.routing import IntegerConverter

from tracemark.config import Settings
from tracemark.ratelimit import Budgets

#: Rate-limit budgets by name → the config key holding their limit string
#: (``"60/minute;1000/hour"``, see :mod:`tracemark.ratelimit`).
BUDGETS = {
    "scan": "TRACEMARK_SCAN_LIMIT",
    "claim": "TRACEMARK_CLAIM_LIMIT",
    "report": "TRACEMARK_REPORT_LIMIT",
    "login": "TRACEMARK_LOGIN_LIMIT",
    "api": "TRACEMARK_API_LIMIT",
    # failures only (see failures_exhausted): integration API calls without a valid token
    "api_auth": "TRACEMARK_API_AUTH_FAILURE_LIMIT",
}
#: CSRF tokens on every form post; the JSON API is exempt (no cookies, no forms).
csrf = CSRFProtect()

_CSP = (
    "default-src 'none'; style-src 'self'{inline}; img-src 'self' data:; script-src 'self'; "
    "connect-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)

#: Stylesheets the pages carry inline in a ``<style>`` (:func:`inline_style`): the
#: portal's few KB, so the first paint waits for no second request. The CSP allows
#: exactly their text, by hash; no other inline style runs.
INLINE_STYLES = ("portal.css",)


def compact_css(text: str) -> str:
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return "\n".join(line.strip() for line in text.splitlines() if line.strip())


def _load_inline_styles(app: Flask) -> None:
    styles, hashes = {}, []
    for name in INLINE_STYLES:
        text = compact_css((Path(app.static_folder) / name).read_text("utf-8"))
        styles[name] = Markup(text)  # noqa: S704 (our own static file, never user input)
        digest = base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode()
        hashes.append(f" 'sha256-{digest}'")
    app.extensions["tracemark.inline_styles"] = styles
    app.extensions["tracemark.csp"] = _CSP.format(inline="".join(hashes))


def inline_style(name: str) -> Markup:
    """The text of the static stylesheet ``name`` (one of :data:`INLINE_STYLES`), for a
    page's ``<style>`` element: the CSP allows it by its hash."""
    return current_app.extensions["tracemark.inline_styles"][name]


def rate_limited(budget: str, key: Callable[[], str] | None = None):
    """Mark a view as drawing on the per-client ``budget`` (see :data:`BUDGETS`); ``key``
    names the client (default: its address; the integration API: its token).

    The limit is applied by :func:`init_rate_limits` with the app's own budgets, so
    nothing global is configured at import time and several apps can live in one process.
    """
    if budget not in BUDGETS:
        raise ValueError(f"unknown rate-limit budget {budget!r}")

    def mark(view):
        view.tracemark_budget = budget
        view.tracemark_budget_key = key
        return view

    return mark


def settings() -> Settings:
    return current_app.config["TRACEMARK_SETTINGS"]


def db_session() -> Session:
    """The request's session, opened on first use and closed at teardown."""
    if "db_session" not in g:
        g.db_session = current_app.extensions["tracemark.sessions"]()
    return g.db_session


def wants_json() -> bool:
    return (
        request.path.startswith("/api/")
        or request.path.endswith(".json")
        or request.accept_mimetypes.best == "application/json"
    )


def error_response(code: int, error: str, message: str, **details):
    """The one way to answer an error: a JSON body for the API, a page for people.

    ``details`` (JSON values, say the failing ``path``) are added to the JSON body."""
    if wants_json():
        return jsonify({"error": error, "message": message, **details}), code
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
    503: lambda: gettext("This service is briefly unavailable. Please try again in a minute."),
}


def _http_error(error: HTTPException):
    code = error.code or 500
    message = _MESSAGES.get(code, _MESSAGES[500])()
    slug = (error.name or "error").lower().replace(" ", "_")
    if isinstance(error, TooManyRequests) and error.retry_after is not None:
        response = make_response(error_response(code, slug, message))
        response.headers["Retry-After"] = str(error.retry_after)
        return response
    return error_response(code, slug, message)


def csrf_error(_error: CSRFError):
    return error_response(400, "csrf", gettext("This form has expired. Go back and try again."))


def _database_unavailable(error: SQLAlchemyError):
    """A database failure outside the scan path (which degrades by itself): 503, not 500."""
    current_app.logger.error("database error: %s", error.__class__.__name__)
    session = g.pop("db_session", None)
    if session is not None:
        session.close()
    return error_response(503, "database_unavailable", _MESSAGES[503]())


def _unexpected(error: Exception):
    current_app.logger.exception("unhandled error", exc_info=error)
    return _http_error(InternalServerError())


_FIXED_HEADERS = (
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("X-Frame-Options", "DENY"),
)
_HSTS = ("Strict-Transport-Security", "max-age=31536000; includeSubDomains")


def _security_headers(response):
    """Every answer's security headers, unless the view set its own (one pass over the
    headers instead of a search for each)."""
    headers = response.headers
    present = {name.lower() for name, _value in headers.items()}
    wanted = [("Content-Security-Policy", current_app.extensions["tracemark.csp"])]
    wanted += _FIXED_HEADERS
    if request.is_secure:
        wanted.append(_HSTS)
    headers.extend([(name, value) for name, value in wanted if name.lower() not in present])
    return response


class IdConverter(IntegerConverter):
    """``<id:…>``: a row id in a URL. Beyond its column's range it is a 404 like any
    unknown id, not a database error. The 404 is raised here rather than by not matching:
    a rule that does not match lets werkzeug answer 405 when another method's rule on the
    same path would have (DELETE of a huge link id beside its PUT)."""

    #: The largest value of an INTEGER id column (32 bits on PostgreSQL).
    largest = 2**31 - 1

    def to_python(self, value: str) -> int:
        number = super().to_python(value)
        if number > self.largest:
            raise NotFound()
        return number


class BigIdConverter(IdConverter):
    """``<bigid:…>``: the id of a BIGINT column (events, messages)."""

    largest = 2**63 - 1


def init_app(app: Flask) -> None:
    app.url_map.converters.update(id=IdConverter, bigid=BigIdConverter)
    app.teardown_appcontext(_close_session)
    app.register_error_handler(CSRFError, csrf_error)
    app.register_error_handler(SQLAlchemyError, _database_unavailable)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)
    app.after_request(_security_headers)
    app.add_template_global(inline_style)
    _load_inline_styles(app)
    csrf.init_app(app)


def init_rate_limits(app: Flask) -> Budgets:
    """Give every view marked with :func:`rate_limited` its budget (call after blueprints).

    Counters are in Redis when configured, shared by all workers and hosts (see
    :mod:`tracemark.ratelimit`: one round trip per request). Only a refused request is
    told when to come back (``Retry-After``): ``X-RateLimit-*`` headers on every answer
    would cost each scan another round trip.
    """
    budgets = Budgets(app.config["TRACEMARK_SETTINGS"].redis_url)
    for endpoint, view in list(app.view_functions.items()):
        budget = getattr(view, "tracemark_budget", None)
        if budget is not None:
            app.view_functions[endpoint] = _limited(view, budgets, budget)
    app.extensions["tracemark.budgets"] = budgets
    return budgets


def _limited(view, budgets: Budgets, budget: str):
    """``view`` spending from ``budget`` first: a refusal is a 429 with ``Retry-After``.
    Should the counters fail beyond what the memory fallback covers, the request is
    served: refusing everyone would be worse than throttling no one."""
    config_key = BUDGETS[budget]
    key_of = getattr(view, "tracemark_budget_key", None) or client_address

    @wraps(view)
    def limited(*args, **kwargs):
        limit, key = current_app.config[config_key], key_of()
        try:
            breached = budgets.spend(limit, budget, key)
        except Exception:  # a storage failing in a way no fallback covers: serve anyway
            current_app.logger.warning("rate budget %s unavailable", budget, exc_info=True)
            breached = None
        if breached is not None:
            raise TooManyRequests(retry_after=budgets.retry_after(breached, budget, key))
        return view(*args, **kwargs)

    return limited


def client_address() -> str:
    """Who a per-address budget belongs to: the client's address (after ``ProxyFix``)."""
    return request.remote_addr or "127.0.0.1"


def failures_exhausted(budget: str) -> int | None:
    """Seconds the client (by address) must wait when it has spent its ``budget`` of
    failures (see :data:`BUDGETS`), otherwise None.

    Budgets of failures stop a client from hammering a check whose every try costs a
    lookup (random API tokens: each has a rate budget of its own, so only failures can
    be counted), without slowing the clients that pass. Asked before the check; the
    failures themselves are counted by :func:`count_failure`. If the storage fails, the
    check goes ahead: refusing everyone would be worse than throttling no one.
    """
    budgets, limit, key = _failure_window(budget)
    try:
        item = budgets.exhausted(limit, budget, key)
        return None if item is None else budgets.retry_after(item, budget, key)
    except Exception:
        current_app.logger.warning("failure budget %s unavailable", budget, exc_info=True)
    return None


def count_failure(budget: str) -> None:
    """Spend one of the client's ``budget`` failures (see :func:`failures_exhausted`)."""
    budgets, limit, key = _failure_window(budget)
    try:
        budgets.spend(limit, budget, key)
    except Exception:
        current_app.logger.warning("failure budget %s unavailable", budget, exc_info=True)


def _failure_window(budget: str) -> tuple[Budgets, str, str]:
    """The app's budgets, the budget's limit string, and the client's address."""
    budgets = current_app.extensions["tracemark.budgets"]
    return budgets, current_app.config[BUDGETS[budget]], client_address()
