"""The GS1 Digital Link resolver's web face: parse the request, resolve, answer.

The verdict view hands a request here only when :func:`wants_resolution` says so — a
cheap look at the query string and the Accept header, so a signed label scan pays
nothing for the resolver but two headers (:func:`decorate`).
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Response, abort, current_app, jsonify, make_response, redirect, request, session
from flask_babel import gettext
from flask_login import current_user

from tracemark.resolver import builtin, compression, identifiers, linkset
from tracemark.resolver.resolve import Resolution, resolve
from tracemark.resolver.vocabulary import LINKSET_VALUES, UnknownLinkType, compact
from tracemark.web import db_session, error_response

CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, HEAD, OPTIONS",
    "Access-Control-Allow-Headers": "Accept, Accept-Language",
    "Access-Control-Expose-Headers": "Link, Location, Content-Type",
}
JSON_TYPES = (linkset.LINKSET_TYPE, "application/json")


def wants_resolution(uri: str) -> bool:
    """Whether a request to ``/01/…`` is for the resolver rather than the verdict page:
    anything but a signed unit URL (``?S=`` first), a ``linkType`` asked for, or a
    linkset accepted. Touches no parsed structure, so the scan path stays as it was."""
    _path, _, query = uri.partition("?")
    return (
        not query.startswith("S=")
        or "linkType=" in query
        or "linkset" in request.headers.get("Accept", "")
    )


def is_compressed(uri: str) -> bool:
    """Whether the request path is a compressed Digital Link (fully: one base64 segment;
    partially: ``/01/{gtin}/`` and one)."""
    return compression.is_compressed_path(uri.partition("?")[0])


def same_as(uri: str, answer_uncompressed: Callable[[str], Response]) -> Response:
    """Answer a compressed request as its uncompressed URI would be answered, and name
    that URI (less the request's own query) in a ``Link`` header (``rel="owl:sameAs"``).
    A partially compressed path that does not decompress is a 400 (for a signed label
    address, the verdict page's 400, which says the code is not genuine); a single
    segment that does not is not found."""
    path, _, query = uri.partition("?")
    try:
        uncompressed = compression.decompress(path, query)
    except compression.CompressionProblem as problem:
        if path.startswith("/01/") and not wants_resolution(uri):
            return answer_uncompressed(uri)
        if path.startswith("/01/"):
            return _error(
                400, problem.reason, gettext("This is not a valid GS1 Digital Link address.")
            )
        abort(404)
    response = answer_uncompressed(uncompressed)
    # the identifier the compressed segment stands for, without the request's own query
    entry = linkset.same_as_entry(base() + compression.decompress(path))
    existing = response.headers.get("Link")
    response.headers["Link"] = f"{existing}, {entry}" if existing else entry
    return response


def scan_uri(uri: str) -> str:
    """The label URI with a trailing slash after the path tolerated."""
    path, mark, query = uri.partition("?")
    return (path[:-1] if path.endswith("/") else path) + mark + query


def base() -> str:
    return request.host_url.rstrip("/")


def decorate(response: Response, uri: str) -> Response:
    """Add what every resolver answer carries: the ``Link`` to the linkset, CORS, Vary."""
    path = scan_uri(uri).partition("?")[0]
    response.headers.setdefault("Link", linkset.linkset_entry(base(), path))
    response.headers.update(CORS)
    response.vary.update(("Accept", "Accept-Language"))
    return response


def preflight(uri: str) -> Response:
    """OPTIONS: what a browser asks before a cross-origin request."""
    response = make_response("", 204)
    response.headers["Allow"] = "GET, HEAD, OPTIONS"
    return decorate(response, uri)


def _languages() -> list[str]:
    return [tag for tag, _quality in request.accept_languages]


def _viewer():
    """The signed-in admin user (for links meant for regulators or the brand), or None.
    Anonymous requests (no user in the session cookie) cost no query."""
    if "_user_id" not in session:
        return None
    return getattr(current_user, "user", None)


def _error(code: int, error: str, message: str) -> Response:
    response, status = error_response(code, error, message)
    response = make_response(response, status)
    response.headers.update(CORS)
    response.headers["Cache-Control"] = "no-store"
    return response


def answer(uri: str) -> Response:
    """The resolver's answer to a Digital Link request URI (path and raw query)."""
    path, _, query = uri.partition("?")
    try:
        identifier = identifiers.parse(path, query)
    except identifiers.SyntaxProblem as problem:
        return _error(400, problem.reason, gettext("This is not a valid GS1 Digital Link address."))
    requested = identifier.param("linkType")
    wants_linkset = requested in LINKSET_VALUES or (
        requested is None and linkset.LINKSET_TYPE in request.headers.get("Accept", "")
    )
    link_type = None
    if requested is not None and not wants_linkset:
        try:
            link_type = compact(requested)
        except UnknownLinkType:
            return _error(400, "bad_link_type", gettext("This link type is not known."))
    languages = _languages()
    resolution = resolve(db_session(), identifier, base=base(), languages=languages, user=_viewer())
    if resolution is None:
        return _error(404, "unknown_identifier", gettext("We know no product with this GTIN."))
    if wants_linkset or (link_type is None and resolution.choose(None, languages) is None):
        # an item with no link of its own yet: its linkset is the default link
        # (``linkTypeDefaultCanBeLinkset``), so every request URI has one
        response = _linkset_response(resolution, languages)
    else:
        response = _redirect(resolution, link_type, languages, query)
    response.headers["Link"] = linkset.link_header(resolution, base())
    response.headers["Cache-Control"] = (
        "no-store" if resolution.tier.value != "public" else "public, max-age=60"
    )
    response.vary.add("Cookie")
    return decorate(response, uri)


def _linkset_response(resolution: Resolution, languages: list[str]) -> Response:
    media_type = request.accept_mimetypes.best_match(JSON_TYPES, default=linkset.LINKSET_TYPE)
    response = jsonify(linkset.build(resolution, base(), languages))
    response.mimetype = media_type
    return response


def _redirect(
    resolution: Resolution, link_type: str | None, languages: list[str], query: str
) -> Response:
    chosen = resolution.choose(link_type, languages)
    if chosen is None:
        return _error(404, "no_link", gettext("This product has no link of that type."))
    target = chosen.href
    passed_on = "&".join(
        pair for pair in query.split("&") if pair and not pair.startswith("linkType=")
    )
    if passed_on and not chosen.builtin:
        target += ("&" if "?" in target else "?") + passed_on
    current_app.logger.debug("resolved %s to %s", resolution.identifier.path, target)
    return redirect(target, code=307)


def description() -> dict:
    return linkset.description(base(), "Tracemark")


def recall_status_answer(gtin: str, lot: str) -> Response:
    """The recall status document (always fresh: it is what a recall changes)."""
    document = builtin.recall_status(db_session(), gtin, lot)
    if document is None:
        message = gettext("We know no product with this GTIN.")
        response = jsonify({"error": "unknown_identifier", "message": message})
        response.status_code = 404
    else:
        response = jsonify(document)
    response.headers.update(CORS)
    response.headers["Cache-Control"] = "no-cache"
    return response
