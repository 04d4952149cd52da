"""What the scan answers precompute per cached batch view and locale: the JSON answer's
batch fragment and the page's language links. The answers stay what they were: the same
JSON as the whole answer serialised at once, a fresh notice, links back to this page."""

from __future__ import annotations

import json
import re

import pytest

from tests.conftest import PASSPHRASE, furnish
from tracemark.codes import issuance
from tracemark.codes.printing import batch_urls
from tracemark.models import Batch, BatchStatus

VERIFY = "/api/v1/verify"


@pytest.fixture
def furnished(db, demo) -> list[str]:
    with db.sessions.begin() as session:
        furnish(session, session.get_one(Batch, demo.batch.id))
    issuance.issue(db.sessions, demo.batch.id, 4, PASSPHRASE)
    with db.sessions() as session:
        batch = session.get_one(Batch, demo.batch.id)
        return [url for _serial, url, _pin in batch_urls(session, batch, "http://localhost")]


def test_json_answer_is_the_whole_answer_serialised_at_once(app, client, furnished):
    from portal.verify_api import answer, to_json
    from portal.views import run_scan

    response = client.get(VERIFY, query_string={"url": furnished[0]})
    assert response.status_code == 200 and response.mimetype == "application/json"
    body = response.json
    assert len(body["batch"]["documents"]) == 1 and len(body["batch"]["journey"]) == 3
    assert body["batch"]["origin"]["site"] == "Jaén mill"
    assert list(json.loads(response.get_data(as_text=True))) == sorted(body)
    for url in (furnished[0], furnished[1], "https://tm.example.com/01/bad"):
        with app.test_request_context(headers={"Accept-Language": "es"}):
            result = run_scan(url)
            first, again = answer(result), answer(result)  # the second from the memo
            assert json.loads(first) == json.loads(again) == to_json(result)


def test_batch_fragment_is_serialised_once_per_cached_view(app, client, furnished, monkeypatch):
    import portal.verify_api

    built = []
    original = portal.verify_api.batch_json
    monkeypatch.setattr(
        portal.verify_api, "batch_json", lambda view: built.append(view) or original(view)
    )
    answers = [client.get(VERIFY, query_string={"url": url}).json for url in furnished[:3]]
    assert len(built) == 1
    assert len({json.dumps(a["batch"], sort_keys=True) for a in answers}) == 1
    french = client.get(
        VERIFY, query_string={"url": furnished[3]}, headers={"Accept-Language": "fr"}
    )
    assert french.status_code == 200 and len(built) == 2  # another locale, another view


def test_notice_in_a_cached_fragment_is_fresh(db, demo, client, furnished):
    before = client.get(VERIFY, query_string={"url": furnished[0]}).json
    assert before["batch"]["notice"] is None
    with db.sessions.begin() as session:
        batch = session.get_one(Batch, demo.batch.id)
        batch.status = BatchStatus.RECALLED
        batch.notice = {"en": 'Return it "now" \\ to the shop.'}
    after = client.get(VERIFY, query_string={"url": furnished[1]}).json
    assert after["verdict"] == "batch_recalled"
    assert after["batch"]["notice"] == 'Return it "now" \\ to the shop.'
    assert {k: v for k, v in after["batch"].items() if k != "notice"} == {
        k: v for k, v in before["batch"].items() if k != "notice"
    }


def test_language_links_lead_back_to_the_page_in_each_language(client, furnished):
    path = furnished[0][furnished[0].index("/01/") :]
    html = client.get(path, headers={"Accept-Language": "de"}).get_data(as_text=True)
    links = re.findall(r'<a href="(/lang/[^"]+)" lang="([^"]+)"( aria-current="true")?>', html)
    assert [lang for _href, lang, _current in links] == [
        "en", "zh-Hans", "es", "fr", "de", "ja", "pt", "ar"
    ]  # fmt: skip
    assert [lang for _href, lang, current in links if current] == ["de"]
    back = path.replace("?S=", "?S%3D")
    assert all(href.endswith(f"?next={back}") for href, _lang, _current in links)
    # another page, another return address; the other language marked current
    other = furnished[1][furnished[1].index("/01/") :]
    html = client.get(other, headers={"Accept-Language": "ja"}).get_data(as_text=True)
    assert f'<a href="/lang/fr?next={other.replace("?S=", "?S%3D")}" lang="fr">' in html
    assert '<a href="/lang/ja?next=' in html and 'lang="ja" aria-current="true"' in html


def test_language_links_escape_the_return_address(client):
    html = client.get('/01/x"><script>?S=1').get_data(as_text=True)
    assert "<script>" not in html
    assert "/lang/en?next=" in html
