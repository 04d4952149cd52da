"""An ended session or an expired form keeps what was typed: back on the page after signing
in, the form is filled again (never passwords or tokens), once, for the same user only."""

from __future__ import annotations

import re
import time
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import func, select

from admin.auth import SIGNED_IN_AT
from admin.intent import KEY, MAX_BYTES
from tests.helpers.admin import PASSWORD, csrf_token, login
from tracemark.models import Product

GTIN = "4006381333931"


def products(people) -> str:
    return f"/admin/brands/{people.brand.slug}/products"


def end_session(app, client) -> None:
    with client.session_transaction() as session:
        session[SIGNED_IN_AT] = int(time.time()) - app.config["TRACEMARK_ADMIN_SESSION_MAX_AGE"] - 1


def next_of(response) -> str:
    location = urlsplit(response.headers["Location"])
    assert location.path == "/admin/login"
    return parse_qs(location.query)["next"][0]


def count_products(db, people) -> int:
    with db.sessions() as session:
        query = select(func.count()).select_from(Product).where(Product.brand_id == people.brand.id)
        return session.scalar(query)


def value_of(html: str, name: str) -> str | None:
    match = re.search(rf'<input[^>]*name="{name}"[^>]*value="([^"]*)"', html) or re.search(
        rf'<input[^>]*value="([^"]*)"[^>]*name="{name}"', html
    )
    return match.group(1) if match else None


def test_an_ended_session_brings_the_typed_form_back_after_signing_in(app, client, people, db):
    login(client, people.owner)
    token = csrf_token(client, products(people))
    before = count_products(db, people)
    end_session(app, client)
    sent = client.post(
        products(people), data={"csrf_token": token, "gtin": GTIN, "name": "Pens & <b>ink</b>"}
    )
    assert sent.status_code == 302 and next_of(sent) == products(people)
    form = client.get(sent.headers["Location"]).get_data(as_text=True)
    assert "data-ended" in form and "what you were sending is kept" in form
    back = login(client, people.owner, next=next_of(sent))
    assert back.headers["Location"] == products(people)
    page = client.get(products(people)).get_data(as_text=True)
    assert "data-restored" in page
    assert value_of(page, "gtin") == GTIN
    assert value_of(page, "name") == "Pens &amp; &lt;b&gt;ink&lt;/b&gt;"
    assert count_products(db, people) == before  # nothing was sent on the user's behalf
    again = client.get(products(people)).get_data(as_text=True)  # used once
    assert "data-restored" not in again and value_of(again, "gtin") in (None, "")


def test_the_restored_message_is_translated(app, client, people):
    login(client, people.owner)
    token = csrf_token(client, products(people))
    end_session(app, client)
    client.post(products(people), data={"csrf_token": token, "gtin": GTIN, "name": "Pens"})
    login(client, people.owner, next=products(people))
    page = client.get(products(people), headers={"Accept-Language": "es"}).get_data(as_text=True)
    assert "data-restored" in page and "What you had typed" not in page


def test_another_user_signing_in_does_not_get_the_form(app, client, people):
    login(client, people.owner)
    token = csrf_token(client, products(people))
    end_session(app, client)
    client.post(products(people), data={"csrf_token": token, "gtin": GTIN, "name": "Pens"})
    login(client, people.staff, next=products(people))
    page = client.get(products(people)).get_data(as_text=True)
    assert "data-restored" not in page and value_of(page, "gtin") in (None, "")


def test_passwords_codes_and_tokens_are_never_kept(app, client, people):
    login(client, people.owner)
    token = csrf_token(client, products(people))
    with client.session_transaction() as session:
        session["_user_id"] = session["_user_id"].split(":")[0] + ":999"  # signed out elsewhere
    client.post(
        products(people),
        data={"csrf_token": token, "gtin": GTIN, "password": PASSWORD,
              "new_password": PASSWORD, "code": "123456", "facts-csrf_token": "t"},
    )  # fmt: skip
    with client.session_transaction() as session:
        kept = session[KEY]
    assert kept["path"] == products(people) and kept["form"] == [["gtin", GTIN]]


def test_a_form_too_large_to_keep_still_leads_back(app, client, people):
    login(client, people.owner)
    token = csrf_token(client, products(people))
    end_session(app, client)
    sent = client.post(
        products(people), data={"csrf_token": token, "gtin": GTIN, "name": "x" * MAX_BYTES}
    )
    assert next_of(sent) == products(people)
    with client.session_transaction() as session:
        assert KEY not in session


def test_a_post_to_an_address_without_a_page_leads_to_the_dashboard(app, client, people, db):
    login(client, people.owner)
    token = csrf_token(client, "/admin/")
    end_session(app, client)
    with db.sessions() as session:
        batch_id = session.scalar(select(func.min(Product.id)))  # any id: the route is matched
    sent = client.post(
        f"/admin/brands/{people.brand.slug}/batches/{batch_id}/status",
        data={"csrf_token": token, "status-status": "on_hold"},
    )
    assert next_of(sent) == "/admin/"


def test_the_login_next_stays_inside_the_admin_app_with_a_kept_form(app, client, people):
    login(client, people.owner)
    token = csrf_token(client, products(people))
    end_session(app, client)
    client.post(products(people), data={"csrf_token": token, "gtin": GTIN, "name": "Pens"})
    response = login(client, people.owner, next="https://evil.example/admin/")
    assert response.headers["Location"] == "/admin/"
    # the kept form still waits for its page
    assert value_of(client.get(products(people)).get_data(as_text=True), "gtin") == GTIN


def test_an_expired_form_token_brings_the_form_back_filled_in(app, client, people, db):
    login(client, people.owner)
    token = csrf_token(client, products(people))
    app.config["WTF_CSRF_TIME_LIMIT"] = 1
    time.sleep(2.1)
    before = count_products(db, people)
    sent = client.post(products(people), data={"csrf_token": token, "gtin": GTIN, "name": "Pens"})
    assert sent.status_code == 303 and sent.headers["Location"] == products(people)
    page = client.get(products(people)).get_data(as_text=True)
    assert "data-restored" in page and value_of(page, "name") == "Pens"
    assert count_products(db, people) == before
    # a forged or missing token is still the plain refusal
    forged = client.post(products(people), data={"csrf_token": "forged", "gtin": GTIN})
    assert forged.status_code == 400


def test_an_ended_session_on_a_page_says_so_and_comes_back(app, client, people):
    login(client, people.owner)
    end_session(app, client)
    response = client.get(products(people))
    assert next_of(response) == products(people)
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "data-ended" in html and "what you were sending" not in html


def test_every_admin_form_refuses_a_nul_character_even_inside_sub_forms(app):
    from wtforms import FieldList, FormField, StringField
    from wtforms.form import Form

    from admin.intent import RestorableForm

    class Texts(Form):
        name = StringField()

    class Edit(RestorableForm):
        title = StringField()
        texts = FormField(Texts)
        tags = FieldList(StringField(), min_entries=1)

    cases = {
        "title": {"title": "a\x00b"},
        "texts": {"texts-name": "\x00"},
        "tags": {"tags-0": "x\x00"},
    }
    for field, data in cases.items():
        with app.test_request_context("/", method="POST", data=data):
            form = Edit(meta={"csrf": False})
            assert not form.validate()
            errors = form.errors[field]
            flat = errors if isinstance(errors, list) else [e for es in errors.values() for e in es]
            assert "not allowed" in " ".join(map(str, flat)), form.errors
    with app.test_request_context("/", method="POST", data={"title": "fine"}):
        assert Edit(meta={"csrf": False}).validate()
