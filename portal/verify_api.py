"""The public verification API: the portal's verdict as JSON (see portal/openapi.yaml)."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, current_app, request, send_from_directory

from portal import messages
from portal.views import explanation, run_scan
from signing.codes import MAX_URL_LENGTH
from tracemark.scanning.batch_view import BatchView
from tracemark.scanning.lookup import ScanResult
from tracemark.web import error_response, rate_limited

bp = Blueprint("api", __name__, url_prefix="/api/v1")
HERE = Path(__file__).resolve().parent


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def to_json(result: ScanResult) -> dict:
    """The verdict as the API's JSON object (see :func:`answer` for the text sent)."""
    body = _scan_part(result)
    view = result.view
    body["batch"] = None if view is None else {**batch_json(view), "notice": view.notice}
    return body


def answer(result: ScanResult) -> str:
    """:func:`to_json` as the JSON text the API sends, with the batch's part taken from
    its cached batch view: it depends on the batch and the locale only (the notice,
    which follows the batch's status, aside), so it is serialised once per cached view.
    Keys are sorted, as Flask's JSON is, so the batch (first of them) leads."""
    body = _dumps(_scan_part(result))
    view = result.view
    if view is None:
        return '{"batch":null,' + body[1:] + "\n"
    fragments = view.memo.get("json") or _batch_fragments(view)
    if fragments is None:
        return _dumps(to_json(result)) + "\n"
    head, tail = fragments
    return '{"batch":' + head + _dumps(view.notice) + tail + "," + body[1:] + "\n"


def _dumps(value) -> str:
    return current_app.json.dumps(value, separators=(",", ":"))


#: Stands for the notice while the batch's fragments are cut (a NUL no text field holds).
_NOTICE = "\u0000notice\u0000"


def _batch_fragments(view: BatchView) -> tuple[str, str] | None:
    """The batch object's JSON text before and after its notice's value, kept with the
    view; None (serialise the whole answer) should the marker not be found once."""
    text = _dumps({**batch_json(view), "notice": _NOTICE})
    marker = _dumps(_NOTICE)
    if text.count(marker) != 1:
        return None
    head, _, tail = text.partition(marker)
    view.memo["json"] = (head, tail)
    return head, tail


def _scan_part(result: ScanResult) -> dict:
    """Everything of the answer but the batch: what this scan found."""
    outcome, code = result.outcome, result.outcome.check.code
    body: dict = {
        "verdict": outcome.verdict.value,
        "reason": outcome.reason,
        "patterns": outcome.patterns,
        "headline": str(messages.HEADLINES[outcome.verdict]),
        "explanation": explanation(result),
        "pattern_explanations": [str(messages.PATTERNS[p]) for p in outcome.patterns],
        "degraded": result.degraded,
        "code": None,
        "brand": None,
        "scans": None,
    }
    if outcome.verdict.value == "not_genuine":
        body["reason_explanation"] = messages.reason_text(outcome.reason)
    if code is not None:
        body["code"] = {"gtin": code.gtin, "lot": code.lot, "serial": code.serial, "kid": code.kid}
    if result.brand_name:
        body["brand"] = {"name": result.brand_name, "contact": result.brand_contact}
    if outcome.scan_count:
        body["scans"] = {
            "count": outcome.scan_count,
            "first_scan_at": _iso(outcome.first_scan_at),
            "first_country": outcome.first_country,
            "claimed_at": _iso(outcome.claimed_at),
            "owner": outcome.owner,
        }
    return body


def batch_json(view: BatchView) -> dict:
    """The batch's part of the answer, its notice aside."""
    site = view.site
    return {
        "product": view.product_name,
        "lot": view.lot,
        "production_date": _iso(view.production_date),
        "expiry_date": _iso(view.expiry_date),
        "origin": {"site": site.name, "region": site.region, "country": site.country}
        if site
        else None,
        "story": {"title": view.story_title, "body": view.story_body} if view.story_body else None,
        "documents": [
            {
                "title": d.title,
                "issuer": d.issuer,
                "issued_on": _iso(d.issued_on),
                "sha256": d.sha256,
                "size": d.size,
                "url": f"/documents/{d.id}/report-{d.id}.pdf",
            }
            for d in view.documents
        ],
        "journey": [
            {
                "time": _iso(s.when),
                "biz_step": s.biz_step,
                "place": s.place,
                "country": s.country,
            }
            for s in view.journey
        ],
    }


@bp.route("/verify", methods=["GET", "POST"])
@rate_limited("scan")
def verify():
    if request.method == "POST":
        payload = request.get_json(silent=True)
        url = payload.get("url") if isinstance(payload, dict) else request.form.get("url")
    else:
        url = request.args.get("url")
    if not isinstance(url, str) or not url:
        return error_response(400, "missing_url", "Give the code URL as 'url'.")
    if len(url) > MAX_URL_LENGTH:
        message = f"A code URL has at most {MAX_URL_LENGTH} characters."
        return error_response(400, "url_too_long", message)
    response = current_app.response_class(answer(run_scan(url)), mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/openapi.yaml")
def openapi():
    return send_from_directory(HERE, "openapi.yaml", mimetype="application/yaml")
