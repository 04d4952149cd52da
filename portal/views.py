"""Public, anonymous pages: the verdict for a code URL, test reports, pictures, the key set."""

from __future__ import annotations

import re
from urllib.parse import quote, urlencode

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    g,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from itsdangerous import BadSignature, URLSafeSerializer
from markupsafe import Markup, escape
from sqlalchemy.exc import SQLAlchemyError

from portal import messages, resolver
from tracemark.accounts.users import memberships, role_in
from tracemark.codes.keystore import load_keyring
from tracemark.codes.pins import ClaimStatus
from tracemark.content import images
from tracemark.i18n import COOKIE, LOCALES, normalize, text_direction
from tracemark.models import Brand, Image, Role
from tracemark.reporting import forgery
from tracemark.scanning.batch_view import BatchView, published_document
from tracemark.scanning.claims import claim_unit
from tracemark.scanning.counting import new_device_id
from tracemark.scanning.lookup import ScanResult, scan
from tracemark.scanning.scans import Client
from tracemark.web import db_session, rate_limited, settings

bp = Blueprint("portal", __name__)

_COUNTRY = re.compile(r"[A-Z]{2}")


def received_uri() -> str:
    """The path and query exactly as the client sent them (escapes intact).

    WSGI servers decode PATH_INFO; the code format needs the raw form to check that
    escapes are canonical, so prefer the raw request line the server passes along.
    """
    raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI")
    if raw:
        return raw
    query = request.query_string.decode("latin-1")
    return quote(request.path, safe="/%") + (f"?{query}" if query else "")


#: The device cookie: a signed random id, first-party, kept two years.
DEVICE_COOKIE = "tm_device"
DEVICE_MAX_AGE = 2 * 365 * 86400


def _device_signer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key, salt="tracemark-device")


def device() -> tuple[str, bool]:
    """The requesting device's id and whether it came with the request's cookie. A
    request without a valid cookie gets a fresh random id, which :func:`remember_device`
    sets as the cookie on the response (so a reload is the same device)."""
    if "tracemark_device" not in g:
        found = None
        raw = request.cookies.get(DEVICE_COOKIE)
        if raw:
            try:
                found = _device_signer().loads(raw)
            except BadSignature:
                found = None
        if isinstance(found, str) and 16 <= len(found) <= 64:
            g.tracemark_device = (found, True)
        else:
            g.tracemark_device = (new_device_id(), False)
    return g.tracemark_device


@bp.after_request
def remember_device(response: Response) -> Response:
    """Set the device cookie when this request made up a new device id."""
    found = g.get("tracemark_device")
    if found is not None and not found[1]:
        response.set_cookie(
            DEVICE_COOKIE,
            _device_signer().dumps(found[0]),
            max_age=DEVICE_MAX_AGE,
            httponly=True,
            samesite="Lax",
            secure=request.is_secure or settings().secure_cookies,
        )
    return response


def staff_brands() -> frozenset[int]:
    """The brands the signed-in user is a member of (their scans are staff scans);
    anonymous requests cost no query."""
    if "_user_id" not in session:
        return frozenset()
    user = getattr(current_user, "user", None)
    if user is None:
        return frozenset()
    return frozenset(brand.id for brand, _role in memberships(db_session(), user))


def client() -> Client:
    header = current_app.config.get("TRACEMARK_COUNTRY_HEADER")
    # a client can send any header: believe it only when a proxy in front sets it
    trusted = bool(header) and (current_app.config.get("TRACEMARK_PROXIES") or 0) > 0
    country = (request.headers.get(header, "") if trusted else "").strip().upper()
    device_id, known = device()
    return Client(
        ip=request.remote_addr,
        user_agent=request.headers.get("User-Agent", ""),
        accept_language=request.headers.get("Accept-Language", ""),
        country=country if _COUNTRY.fullmatch(country) and country != "XX" else None,
        locale=str(get_locale()),
        device_id=device_id,
        device_known=known,
        staff_brands=staff_brands(),
    )


def run_scan(uri: str) -> ScanResult:
    return scan(
        current_app.extensions["tracemark.scan_sessions"],
        uri,
        client(),
        secret=settings().require_secret_key().encode(),
        keys=current_app.extensions["tracemark.keys"],
        locale=str(get_locale()),
        views=current_app.extensions["tracemark.batch_views"],
    )


def explanation(result: ScanResult) -> str:
    outcome = result.outcome
    return messages.explanation(
        outcome.verdict,
        result.brand_name or "",
        outcome.scan_count,
        outcome.first_scan_at,
        claimed=outcome.claimed_at is not None,
    )


@bp.get("/")
def home():
    """What someone who types the site's address finds: how to check a product (every
    error page links here)."""
    return render_template("home.html")


@bp.get("/01/<path:_rest>", provide_automatic_options=False)
@rate_limited("scan")
def verify(_rest: str):
    uri = received_uri()
    if resolver.is_compressed(uri):
        return resolver.same_as(uri, answer_uncompressed)
    return answer_uncompressed(uri)


@bp.get("/<string:_segment>", provide_automatic_options=False, strict_slashes=False)
@rate_limited("scan")
def compressed(_segment: str):
    """A fully compressed Digital Link (``/AQnYUc1gmg``), answered as its uncompressed
    form; any other single path segment no page has is not found."""
    uri = received_uri()
    if not resolver.is_compressed(uri):
        abort(404)
    return resolver.same_as(uri, answer_uncompressed)


@bp.route("/<string:_segment>", methods=["OPTIONS"], strict_slashes=False)
def compressed_options(_segment: str):
    uri = received_uri()
    if not resolver.is_compressed(uri):
        abort(404)
    return resolver.preflight(uri)


def answer_uncompressed(uri: str) -> Response:
    """The verdict page for a signed unit URL, the resolver's answer for the rest."""
    if resolver.wants_resolution(uri):
        return resolver.answer(uri)
    uri = resolver.scan_uri(uri)
    result = run_scan(uri)
    status = 400 if result.outcome.reason.startswith("malformed:") else 200
    page = render_template(
        "verdict.html",
        result=result,
        messages=messages,
        code_uri=uri,
        record_url=recording_link(result, uri),
    )
    response = make_response(page, status)
    response.headers["Cache-Control"] = "no-store"
    return resolver.decorate(response, uri)


@bp.route("/01/<path:_rest>", methods=["OPTIONS"])
def verify_options(_rest: str):
    return resolver.preflight(received_uri())


@bp.get("/.well-known/gs1resolver")
def resolver_description():
    """The GS1 resolver description file."""
    response = jsonify(resolver.description())
    response.headers.update(resolver.CORS)
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


@bp.get("/recall-status/01/<string:gtin>/10/<string:lot>")
@rate_limited("scan")
def recall_status(gtin: str, lot: str):
    """A batch's recall status as JSON: the target of its ``gs1:recallStatus`` link."""
    return resolver.recall_status_answer(gtin, lot)


def recording_link(result: ScanResult, uri: str) -> str | None:
    """Where the brand's signed-in owners and staff record a checkpoint for this unit
    (the admin app's recording page with the label filled in); None for everyone else.

    The admin session cookie is the site-wide, HttpOnly, SameSite=Lax session cookie, so
    a phone's camera opening the label (a top-level GET) sends it. Without a signed-in
    user in it, nothing is looked up: anonymous scans cost no query here.
    """
    facts = result.outcome.check.facts
    if facts is None or "_user_id" not in session:
        return None
    user = getattr(current_user, "user", None)
    if user is None:
        return None
    db = db_session()
    if role_in(db, user, facts.brand_id) not in (Role.OWNER, Role.STAFF):
        return None
    brand = db.get(Brand, facts.brand_id)
    return url_for("admin.record", slug=brand.slug, code=request.host_url.rstrip("/") + uri)


@bp.get("/documents/<id:document_id>/<string:_name>")
@rate_limited("scan")
def document(document_id: int, _name: str):
    found = published_document(db_session(), document_id)
    if found is None:
        abort(404)
    record, data = found
    # Served only as a download, under a fixed type: never rendered inline.
    response = Response(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f"attachment; filename=report-{record.id}.pdf"
    response.headers["X-Content-SHA256"] = record.sha256
    return response


@bp.get("/images/<id:image_id>/<string:digest>.<string:ext>")
def image(image_id: int, digest: str, ext: str):
    """A stored picture. Its address names its content's hash, so a public one is cached
    for a year; a draft is shown only to its brand's signed-in members, never cached."""
    session = db_session()
    found = session.get(Image, image_id)
    if found is None or found.sha256 != digest or images.image_path(found) != request.path:
        abort(404)
    response = Response(mimetype=found.content_type)
    if images.is_public(session, found):
        response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    elif _is_member(session, found.brand_id):
        response.headers["Cache-Control"] = "private, no-store"
        response.headers["Vary"] = "Cookie"
    else:
        abort(404)
    response.set_data(found.data)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.set_etag(found.sha256)
    return response.make_conditional(request)


def _is_member(session, brand_id: int) -> bool:
    """Whether the request comes from a signed-in member of the brand (admin session)."""
    user = getattr(current_user, "user", None)
    return user is not None and role_in(session, user, brand_id) is not None


@bp.get("/lang/<string:code>")
def set_language(code: str):
    """The language switcher: remember the choice, go back to the page it was made on."""
    locale = normalize(code) or abort(404)
    target = request.args.get("next", "")
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        target = "/"
    if not target.isprintable():  # CR/LF and friends cannot go into a header
        target = "/"
    response = redirect(target, code=303)
    response.set_cookie(
        COOKIE, locale, max_age=365 * 86400, samesite="Lax", httponly=True, secure=request.is_secure
    )
    return response


@bp.get("/.well-known/tracemark/keys.json")
def keys():
    """The published key set; from the last-known keys while the database is down."""
    try:
        ring = load_keyring(db_session())
        max_age = 300
    except SQLAlchemyError:
        ring = current_app.extensions["tracemark.keys"].ring()
        if not len(ring):
            raise
        max_age = 30
    response = jsonify(ring.to_jwks())
    response.headers["Cache-Control"] = f"public, max-age={max_age}"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def batch_parts(view: BatchView) -> tuple[Markup, Markup]:
    """The verdict page's batch sections before and after the serial number, rendered
    once per cached batch view: they depend on the batch and the locale (the view's)
    only, and rendering them is most of the page's template cost."""
    parts = view.memo.get("html")
    if parts is None:
        context: dict = {}
        current_app.update_template_context(context)  # the page's helpers and filters
        module = current_app.jinja_env.get_template("_batch.html").make_module(context)
        parts = view.memo["html"] = (module.head(view), module.tail(view))
    return parts


#: Stands for the return address while a page header is rendered once per language.
_BACK = "TRACEMARKBACKADDRESS"


def page_header() -> Markup:
    """The page header with its language switcher (links back to this page). It depends
    on the page language only, but for the return address: rendered once per app and
    language, the address encoded and escaped once per request."""
    locale = str(get_locale())
    headers = current_app.extensions.setdefault("tracemark.page_headers", {})
    pieces = headers.get(locale)
    if pieces is None:
        pieces = headers[locale] = render_template("_header.html", back=_BACK).split(_BACK)
    back = request.full_path if request.query_string else request.path
    query = str(escape("?" + urlencode({"next": back}, safe="!$'()*,/:;?@")))
    return Markup(query.join(pieces))  # noqa: S704


@bp.app_context_processor
def locale_context() -> dict:
    locale = str(get_locale())
    return {
        "locale": locale,
        "direction": text_direction(locale),
        "locales": LOCALES,
        "explanation": explanation,
        "biz_step_name": messages.biz_step_name,
        "excursion_text": messages.excursion_text,
        "sensor_name": messages.sensor_name,
        "measure": messages.measure,
        "batch_parts": batch_parts,
        "isolate": messages.isolate,
        "page_header": page_header,
    }


@bp.app_template_filter("isolate")
def isolate_filter(value: object) -> str:
    """A value put into a translated sentence, isolated on right-to-left pages."""
    return messages.isolate(value)


@bp.app_template_filter("country_name")
def country_name(code: str) -> str:
    """The country's name in the page's language (CLDR via Babel)."""
    return get_locale().territories.get(code, code)


#: What a refused report says, by :class:`ReportError` code.
REPORT_ERRORS = {
    "no_place": _l("Say where you bought it: the shop, the city or the online link."),
    "bad_shop": _l("The shop's name is too long."),
    "bad_city": _l("The city's name is too long."),
    "bad_online_url": _l("Give the online shop's full address, starting with https://"),
    "bad_contact": _l("The contact is too long."),
    "bad_photo": _l("The photo must be a PNG, JPEG or WebP picture of at most 5 MB."),
    "bad_verdict": _l("This product cannot be reported from here."),
}


def _report_code() -> tuple[str, str]:
    code = request.values.get("code", "")[:2000]
    verdict = request.values.get("verdict", "")
    if not code.startswith("/01/") or verdict not in forgery.REPORTABLE:
        abort(404)
    return code, verdict


@bp.get("/report")
@rate_limited("scan")
def report_form():
    """Where a shopper says where a label that failed the check was bought."""
    code, verdict = _report_code()
    return render_template("report.html", code_uri=code, verdict=verdict, error=None, values={})


@bp.post("/report")
@rate_limited("report")
def report():
    """Store the report for the brand the code claims; the shopper sees it was sent."""
    code, verdict = _report_code()
    upload = request.files.get("photo")
    photo = upload.read(images.MAX_IMAGE_BYTES + 1) if upload and upload.filename else None
    values = {name: request.form.get(name, "")[:1000] for name in forgery.LIMITS}
    session = db_session()
    try:
        forgery.file_report(
            session, code, verdict, photo=photo, country=client().country,
            locale=str(get_locale()), **values,
        )  # fmt: skip
    except forgery.ReportError as error:
        session.rollback()
        message = REPORT_ERRORS[error.code]
        return render_template(
            "report.html", code_uri=code, verdict=verdict, error=message, values=values
        ), 400
    session.commit()
    return render_template("report_sent.html", code_uri=code), 201


@bp.post("/claim")
@rate_limited("claim")
def claim():
    """Claim a unit with its scratch-off PIN (form posted from the verdict page)."""
    code_uri = request.form.get("code", "")
    pin = request.form.get("pin", "")[:32]
    result = claim_unit(
        current_app.extensions["tracemark.sessions"],
        code_uri,
        pin,
        client(),
        secret=settings().require_secret_key().encode(),
        pin_secret=settings().require_pin_secret(),
    )
    status = 200 if result.status is ClaimStatus.CLAIMED else 400
    if result.status is ClaimStatus.LOCKED:
        status = 429
    return render_template(
        "claim.html", result=result, code_uri=code_uri, messages=messages
    ), status
