"""Driving the admin app through the Flask test client: signing in, forms, audit rows."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path

import pyotp
from sqlalchemy import select

from tests.conftest import gtin_under
from tracemark.accounts import second_factor
from tracemark.models import AuditLog, Brand
from tracemark.web import compact_css

PORTAL_CSS = Path(__file__).parents[2] / "static" / "portal.css"

PASSWORD = "correct horse battery"
_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|'
                   r'name="csrf_token" value="([^"]+)"')  # fmt: skip
_ERROR = re.compile(r'<p class="admin-error"[^>]*>([^<]*)</p>')


def csrf_token(client, path: str = "/admin/login") -> str:
    page = client.get(path)
    assert page.status_code == 200
    match = _CSRF.search(page.get_data(as_text=True))
    assert match, "no CSRF token in the form"
    return match.group(1) or match.group(2)


def login(client, email: str, password: str = PASSWORD, next: str | None = None, **kwargs):
    data = {"csrf_token": csrf_token(client), "email": email, "password": password}
    if next is not None:
        data["next"] = next
    return client.post("/admin/login", data=data, **kwargs)


_SCRIPT = re.compile(r"<script([^>]*)>(.*?)</script>", re.S)


def assert_no_inline_code(html: str) -> None:
    """Pages keep to the CSP: no inline style but the portal's own stylesheet (allowed by
    its hash), and scripts only from our static files."""
    own = f"<style>{compact_css(PORTAL_CSS.read_text('utf-8'))}</style>"
    html = html.replace(own, "")
    assert "style=" not in html and "<style" not in html
    for attributes, body in _SCRIPT.findall(html):
        assert re.fullmatch(r' src="/static/[\w.-]+\.js"( defer)?', attributes), attributes
        assert body.strip() == ""


def error_of(response) -> str | None:
    match = _ERROR.search(response.get_data(as_text=True))
    return match.group(1) if match else None


def audit_actions(db, action: str) -> list[AuditLog]:
    """The entries of ``action``, but those the fixtures' setup wrote as the system."""
    with db.sessions() as session:
        query = (
            select(AuditLog)
            .where(AuditLog.action == action, AuditLog.actor.is_distinct_from("system"))
            .order_by(AuditLog.id)
        )
        return list(session.scalars(query))


_FIELD_ERROR = re.compile(r'<span class="admin-field-error" data-error="([^"]+)">([^<]*)</span>')
ROLES = ("owner", "staff", "marketing", "regulator", "outsider")


@dataclass
class Catalog:
    brand: Brand
    other: Brand
    product_id: int
    batch_id: int
    other_product_id: int
    other_batch_id: int
    emails: dict[str, str]
    #: The GS1 company prefix ``brand`` holds, and its product's GTIN (GS1's example
    #: GTIN, which both brands have: registered before they held prefixes).
    prefix: str = ""
    gtin: str = ""

    def new_gtin(self, item: int = 2) -> str:
        """A GTIN-14 under the brand's prefix that no product has yet."""
        return gtin_under(self.prefix, item)


def signed_in(app, shop: Catalog, role: str = "owner", **headers):
    client = app.test_client()
    assert login(client, shop.emails[role]).status_code == 302
    return client


def post(client, path: str, data: dict, prefix: str = "", **kwargs):
    """Post ``data`` to the form on ``path`` with its CSRF token."""
    html = client.get(path).get_data(as_text=True)
    match = re.search(rf'name="{prefix}csrf_token" type="hidden" value="([^"]+)"', html)
    token = match.group(1) if match else csrf_token(client, "/admin/")
    return client.post(path, data={f"{prefix}csrf_token": token, **data}, **kwargs)


def errors_of(response) -> dict[str, str]:
    return dict(_FIELD_ERROR.findall(response.get_data(as_text=True)))


def base(shop: Catalog) -> str:
    return f"/admin/brands/{shop.brand.slug}"


def audit_actions_for(db, brand_id: int, action: str):
    return [entry for entry in audit_actions(db, action) if entry.brand_id == brand_id]


def post_form(client, path: str, action: str, data: dict):
    html = client.get(path).get_data(as_text=True)
    found = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    token = found.group(1) if found else csrf_token(client, "/admin/")
    return client.post(action, data={"csrf_token": token, **data})


@dataclass
class People:
    brand: Brand
    other: Brand
    owner: str
    staff: str
    stranger: str  # owner of the other brand only
    inactive: str


SECRET_FIELD = re.compile(r"<code[^>]*data-secret>([A-Z2-7]+)</code>")
RECOVERY_CODES_LISTED = re.compile(r"<li><code>([a-z0-9]{5}-[a-z0-9]{5})</code></li>")


def code_at(secret: str, offset_steps: int = 0) -> str:
    return pyotp.TOTP(secret).at(time.time() + 30 * offset_steps)


def enrol(client) -> tuple[str, list[str]]:
    """Turn on the second factor for the signed-in client: (secret, recovery codes)."""
    page = client.get("/admin/account").get_data(as_text=True)
    secret = SECRET_FIELD.search(page).group(1)
    response = client.post(
        "/admin/account/second-factor",
        data={"csrf_token": csrf_token(client, "/admin/account"), "code": code_at(secret)},
    )
    assert response.status_code == 200
    codes = RECOVERY_CODES_LISTED.findall(response.get_data(as_text=True))
    assert len(codes) == second_factor.RECOVERY_CODES
    return secret, codes


def send_code(client, code: str):
    token = csrf_token(client, "/admin/login/code")
    return client.post("/admin/login/code", data={"csrf_token": token, "code": code})
