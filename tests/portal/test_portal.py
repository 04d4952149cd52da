import hashlib
import re

import pytest
from sqlalchemy.exc import OperationalError

from tests.conftest import PASSPHRASE, PDF, REDIS_HOST, REDIS_PORT, forge, furnish
from tracemark.codes import issuance, pins
from tracemark.codes.printing import batch_urls
from tracemark.content import stories as content
from tracemark.models import Batch, BatchStatus, DocumentContent


@pytest.fixture
def codes(db, demo):
    issuance.issue(db.sessions, demo.batch.id, 4, PASSPHRASE, with_pin=True)
    with db.sessions.begin() as session:
        batch = session.merge(demo.batch)
        batch.product.texts = {"fr": {"name": "Huile d'olive 1 l"}}
        stories = {"en": ("Harvest 2026", "Harvest 2026 body"), "fr": ("Récolte 2026", "corps")}
        furnish(session, batch, stories=stories)
        content.add_story(session, batch, "de", "Entwurf", "draft")  # a draft: never shown
        urls = [url for _s, url, _p in batch_urls(session, batch, "http://x")]
    return [url[url.index("/01/") :] for url in urls]


def _verdict(response):
    return re.search(r'data-verdict="([a-z_]+)"', response.get_data(as_text=True)).group(1)


def test_page_shows_story_origin_documents_and_journey(client, codes):
    html = client.get(codes[0], headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Harvest 2026" in html and "Jaén mill" in html and "Spain" in html
    assert "Pesticide screen" in html and hashlib.sha256(PDF).hexdigest() in html
    assert html.index("Produced") < html.index("Shipped") < html.index("Cleared customs")
    assert "Entwurf" not in html


def test_story_and_product_name_follow_the_locale_with_fallback(client, codes):
    fr = client.get(codes[0], headers={"Accept-Language": "fr-CA,fr;q=0.9"}).get_data(as_text=True)
    assert "Récolte 2026" in fr and "Huile d&#39;olive 1 l" in fr and 'lang="fr"' in fr
    de = client.get(codes[0], headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert "Harvest 2026" in de  # the draft is not shown; English is the fallback
    assert 'lang="de"' in de


def test_arabic_is_right_to_left(client, codes):
    html = client.get(codes[0], headers={"Accept-Language": "ar"}).get_data(as_text=True)
    assert 'dir="rtl"' in html and 'lang="ar"' in html


def test_language_switch_persists_in_a_cookie(client, codes):
    response = client.get(f"/lang/ja?next={codes[0]}")
    assert response.status_code == 303 and response.headers["Location"].endswith(codes[0])
    html = client.get(codes[0], headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'lang="ja"' in html
    assert client.get("/lang/xx").status_code == 404
    assert client.get("/lang/fr?next=//evil.example").headers["Location"] == "/"


def test_document_download_is_checked_and_never_inline(client, codes):
    html = client.get(codes[0]).get_data(as_text=True)
    link = re.search(r'href="(/documents/[^"]+)"', html).group(1)
    response = client.get(link)
    assert response.data == PDF
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert response.headers["X-Content-SHA256"] == hashlib.sha256(PDF).hexdigest()


def test_tampered_document_is_not_served(db, client, codes):
    html = client.get(codes[0]).get_data(as_text=True)
    document_id = int(re.search(r'href="/documents/(\d+)/', html).group(1))
    with db.sessions.begin() as session:
        session.get(DocumentContent, document_id).data = PDF + b"x"
    assert client.get(f"/documents/{document_id}/report.pdf").status_code == 404


def test_recall_shows_the_brands_notice(db, demo, client, codes):
    with db.sessions.begin() as session:
        batch = session.merge(demo.batch)
        batch.status = BatchStatus.RECALLED
        batch.notice = {"en": "Return it to the shop for a refund.", "es": "Devuélvalo."}
    response = client.get(codes[1], headers={"Accept-Language": "es"})
    assert _verdict(response) == "batch_recalled"
    assert "Devuélvalo." in response.get_data(as_text=True)


def test_json_api_get_and_post(client, codes):
    body = client.get("/api/v1/verify", query_string={"url": "https://t.example" + codes[2]}).json
    assert body["verdict"] == "genuine_first_scan"
    assert body["code"]["gtin"] == "09506000134352"
    assert body["batch"]["origin"]["country"] == "ES"
    assert [s["biz_step"] for s in body["batch"]["journey"]] == [
        "commissioning",
        "shipping",
        "customs",
    ]
    reload = client.post("/api/v1/verify", json={"url": codes[2]}).json
    assert reload["verdict"] == "genuine_first_scan" and reload["scans"]["count"] == 1
    other = {"User-Agent": "another phone"}
    again = client.post("/api/v1/verify", json={"url": codes[2]}, headers=other).json
    assert again["verdict"] == "genuine_scanned_before" and again["scans"]["count"] == 2
    forged = client.post("/api/v1/verify", json={"url": forge(codes[2])}).json
    assert (forged["verdict"], forged["reason"]) == ("not_genuine", "bad_signature")


@pytest.mark.parametrize("payload", [None, {}, {"url": 5}, {"url": "x" * 5000}, []])
def test_json_api_rejects_bad_bodies_with_stable_codes(client, payload):
    response = client.post("/api/v1/verify", json=payload)
    assert response.status_code == 400
    assert response.json["error"] in ("missing_url", "url_too_long")


def test_claim_with_pin_through_the_page(app, client, demo, codes):
    html = client.get(codes[3]).get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    serial = codes[3].split("/21/")[1].split("?")[0]
    pin = pins.pin_for(pins.brand_pin_key("test-pin-secret", demo.brand.id), serial)
    wrong = client.post("/claim", data={"csrf_token": token, "code": codes[3], "pin": "1"})
    assert wrong.status_code == 400 and 'data-claim="wrong_pin"' in wrong.get_data(as_text=True)
    done = client.post("/claim", data={"csrf_token": token, "code": codes[3], "pin": pin})
    assert done.status_code == 200 and 'data-claim="claimed"' in done.get_data(as_text=True)
    assert "data-claimed=" in client.get(codes[3]).get_data(as_text=True)


def test_claim_without_csrf_token_is_refused(client, codes):
    response = client.post("/claim", data={"code": codes[0], "pin": "12345678"})
    assert response.status_code == 400
    assert "This form has expired" in response.get_data(as_text=True)


def test_security_headers(client, codes):
    response = client.get(codes[0])
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "unsafe-inline" not in csp
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "Strict-Transport-Security" not in response.headers
    secure = client.get(codes[0], base_url="https://localhost")
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=")


def test_page_is_small_and_has_no_external_requests(client, codes):
    response = client.get(codes[0])
    html = response.get_data(as_text=True)
    css = client.get("/static/portal.css").data
    assert len(response.data) + len(css) < 60_000
    assert not re.search(r'(src|href)="(https?:)?//', html)
    assert "<script" not in html


def test_rate_limit_gives_a_translated_429_page(settings, codes):
    from dataclasses import replace

    from tracemark.app import close, create_app

    app = create_app(replace(settings, scan_rate_limit="2/day"), {"TESTING": True})
    client = app.test_client()
    assert client.get(codes[0]).status_code == 200
    assert client.get(codes[0]).status_code == 200
    limited = client.get(codes[0], headers={"Accept-Language": "fr"})
    assert limited.status_code == 429
    assert 'lang="fr"' in limited.get_data(as_text=True)
    api = client.get("/api/v1/verify", query_string={"url": codes[0]})
    assert api.status_code == 429 and api.json["error"] == "too_many_requests"
    close(app)


def test_database_down_gives_a_degraded_verdict_not_an_error(app, client, codes, monkeypatch):
    client.get(codes[0])  # the key is known from a normal scan (and from start-up)

    def unavailable(*_args, **_kwargs):
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    monkeypatch.setattr("tracemark.scanning.lookup.scan_code", unavailable)
    response = client.get(codes[0])
    assert response.status_code == 200
    assert _verdict(response) == "genuine_signature_unchecked"
    forged = client.get(forge(codes[0]))
    assert _verdict(forged) == "not_genuine"


def test_limits_live_in_redis_when_configured_and_survive_its_loss(settings, codes, redis_db):
    from dataclasses import replace

    import redis

    from tracemark.app import close, create_app

    url = f"redis://{REDIS_HOST}:{REDIS_PORT}/{redis_db}"
    shared = replace(settings, redis_url=url, scan_rate_limit="3/day")
    first, second = (create_app(shared, {"TESTING": True}) for _ in range(2))
    # two apps (two workers) share one budget through Redis
    assert first.test_client().get(codes[0]).status_code == 200
    assert second.test_client().get(codes[0]).status_code == 200
    assert first.test_client().get(codes[0]).status_code == 200
    assert second.test_client().get(codes[0]).status_code == 429
    redis.Redis.from_url(url).flushdb()
    # Redis gone: requests still get answers, limited in memory
    gone = create_app(replace(shared, redis_url="redis://127.0.0.1:1/0"), {"TESTING": True})
    statuses = [gone.test_client().get(codes[0]).status_code for _ in range(5)]
    assert statuses[:3] == [200, 200, 200] and statuses[-1] == 429
    for app in (first, second, gone):
        close(app)


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("fr", "Il a été scanné 2 fois depuis le"),
        ("de", "2 Mal gescannt"),
        ("ar", "عدد مرات مسحه"),
        ("en", "It has been scanned 2 times since"),
    ],
)
def test_repeat_scan_is_explained_in_the_readers_language(app, client, codes, language, expected):
    headers = {"Accept-Language": language}
    app.test_client().get(codes[1], headers={**headers, "User-Agent": "someone else's phone"})
    html = client.get(codes[1], headers=headers).get_data(as_text=True)
    assert expected in html
    assert "genuine_scanned_before" in html


def test_wrong_pin_message_is_plural_aware(app):
    from portal.messages import claim_text

    with app.test_request_context(headers={"Accept-Language": "es"}):
        assert claim_text("wrong_pin", attempts_left=1).endswith("Le queda 1 intento.")
        assert claim_text("wrong_pin", attempts_left=3).endswith("Le quedan 3 intentos.")


def test_unreachable_database_degrades_every_public_route(settings, codes):
    from tracemark.app import close, create_app
    from tracemark.db import make_engine

    app = create_app(settings, {"TESTING": True})  # keys learnt at start, then the DB goes
    dead = make_engine(
        "postgresql+psycopg://postgres@127.0.0.1:1/gone", connect_args={"connect_timeout": 1}
    )
    for sessions in ("tracemark.sessions", "tracemark.scan_sessions"):
        app.extensions[sessions].configure(bind=dead)
    client = app.test_client()
    page = client.get(codes[0])
    assert page.status_code == 200 and _verdict(page) == "genuine_signature_unchecked"
    assert _verdict(client.get(forge(codes[0]))) == "not_genuine"
    api = client.get("/api/v1/verify", query_string={"url": codes[1]})
    assert api.status_code == 200 and api.json["degraded"] is True
    keys = client.get("/.well-known/tracemark/keys.json")
    assert keys.status_code == 200 and keys.json["keys"]
    assert client.get("/documents/1/report.pdf").status_code == 503
    close(app)
    dead.dispose()


def test_database_down_from_the_start_is_unavailable_not_an_error(settings, codes):
    from dataclasses import replace

    from tracemark.app import create_app

    down = replace(settings, database_url="postgresql+psycopg://postgres@127.0.0.1:1/gone")
    client = create_app(down, {"TESTING": True}).test_client()
    page = client.get(codes[0])
    assert page.status_code == 200 and _verdict(page) == "verification_unavailable"
    keys = client.get("/.well-known/tracemark/keys.json")
    assert keys.status_code == 503 and keys.json["error"] == "database_unavailable"


def test_a_notice_in_no_language_of_the_page_gives_the_standard_text(db, demo, client, codes):
    with db.sessions.begin() as session:
        batch = session.merge(demo.batch)
        batch.status = BatchStatus.RECALLED
        batch.notice = {"es": "Devuélvalo a la tienda."}
    html = client.get(codes[1], headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert 'data-verdict="batch_recalled"' in html
    assert "Devuélvalo" not in html and 'data-notice="standard"' in html
    spanish = client.get(codes[1], headers={"Accept-Language": "es"}).get_data(as_text=True)
    assert "Devuélvalo a la tienda." in spanish and 'data-notice="brand"' in spanish


def test_the_product_name_falls_back_to_its_base_name_not_a_translation(db, demo, client, codes):
    with db.sessions.begin() as session:
        session.merge(demo.batch).product.texts = {"es": {"name": "Aceite de oliva 1 l"}}
    html = client.get(codes[1], headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<h2 dir="auto">Olive oil 1 l</h2>' in html and "Aceite" not in html


def test_a_brand_name_ending_in_a_full_stop_gives_no_double_stop(db, demo, client, codes):
    with db.sessions.begin() as session:
        session.merge(demo.batch).product.brand.name = "Demo Olive Oil Co."
    client.get(codes[3])
    for language in ("en", "fr", "de"):
        html = client.get(codes[3], headers={"Accept-Language": language}).get_data(as_text=True)
        assert "Co.." not in html and "Demo Olive Oil Co." in html


def test_the_page_carries_its_style_inline_allowed_by_hash_and_a_description(client, codes):
    import base64

    response = client.get(codes[0])
    html = response.get_data(as_text=True)
    style = re.search(r"<style>(.*?)</style>", html, re.S).group(1)
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    assert f"'sha256-{digest}'" in response.headers["Content-Security-Policy"]
    assert ".verdict" in style and 'rel="stylesheet"' not in html
    assert re.search(r'<meta name="description" content="[^"]{20,}">', html)


def test_the_not_found_page_has_a_translated_title_and_a_way_home(client):
    response = client.get("/no/such/page", headers={"Accept-Language": "fr"})
    html = response.get_data(as_text=True)
    assert response.status_code == 404
    title = re.search(r"<title>(.*?)</title>", html).group(1)
    assert title != "404" and "adresse" in title
    assert 'href="/"' in html
    home = client.get("/", headers={"Accept-Language": "fr"})
    assert home.status_code == 200 and "<h1>Vérifier un produit</h1>" in home.get_data(as_text=True)


def test_no_pin_form_under_a_possible_copy_or_a_recall(db, demo, client, codes):
    fresh = client.get(codes[2]).get_data(as_text=True)
    assert 'class="claim"' in fresh and 'data-icon="ok"' in fresh
    for network in range(8):  # eight phones in eight places: a copied label
        shopper = client.application.test_client()
        page = shopper.get(codes[2], environ_base={"REMOTE_ADDR": f"198.{network}.51.7"})
    html = page.get_data(as_text=True)
    assert 'data-verdict="suspicious_copy"' in html and 'class="claim"' not in html
    assert 'data-icon="copy"' in html and "tone-copy" in html
    with db.sessions.begin() as session:
        session.merge(demo.batch).status = BatchStatus.RECALLED
    recalled = client.get(codes[3]).get_data(as_text=True)
    assert 'data-verdict="batch_recalled"' in recalled and 'class="claim"' not in recalled
    assert 'data-icon="recall"' in recalled and 'data-notice="standard"' in recalled


def test_latin_names_and_dates_are_isolated_in_arabic_sentences(db, demo, client, codes):
    with db.sessions.begin() as session:
        batch = session.get(Batch, demo.batch.id)
        batch.product.brand.name = "Demo Olive Oil Co."
        batch.status = BatchStatus.RECALLED
        batch.notice = {"ar": "أعده إلى المتجر."}
    html = client.get(codes[1], headers={"Accept-Language": "ar"}).get_data(as_text=True)
    assert "\u2068Demo Olive Oil Co.\u2069" in html  # in the explanation and the notice title
    assert html.count("\u2068Demo Olive Oil Co.\u2069") >= 2
    assert "<bdi>Jaén mill</bdi>, <bdi>Andalusia</bdi>" in html
    assert '<h2 dir="auto">Olive oil 1 l</h2>' in html
    english = client.get(codes[1], headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "\u2068" not in english and "Demo Olive Oil Co. has recalled" in english
