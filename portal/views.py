"""Public, anonymous routes: the verdict for a code URL and the published key set."""

from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, Response, abort, jsonify, render_template, request

from tracemark.keystore import load_keyring
from tracemark.verify import Verdict, check_url
from tracemark.web import db_session

bp = Blueprint("portal", __name__)


def _received_uri() -> str:
    """The path and query exactly as the client sent them (escapes intact).

    WSGI servers decode PATH_INFO; the code format needs the raw form to check that
    escapes are canonical, so prefer the raw request line the server passes along.
    """
    raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI")
    if raw:
        return raw
    query = request.query_string.decode("latin-1")
    return quote(request.path, safe="/%") + (f"?{query}" if query else "")


@bp.get("/01/<path:_rest>")
def verify(_rest: str):
    check = check_url(db_session(), _received_uri())
    status = 400 if check.reason.startswith("malformed:") else 200
    response = Response(render_template("verdict.html", check=check, Verdict=Verdict), status)
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/.well-known/tracemark/keys.json")
def keys():
    response = jsonify(load_keyring(db_session()).to_jwks())
    response.headers["Cache-Control"] = "public, max-age=300"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.get("/")
def index():
    abort(404)
