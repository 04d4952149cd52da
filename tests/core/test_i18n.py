"""Choosing the locale (tracemark.i18n): ?lang=, then the cookie, then Accept-Language."""

from __future__ import annotations

import pytest
from flask import Flask

from tracemark.i18n import COOKIE, select_locale


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("fr-CH, fr;q=0.9, en;q=0.8", "fr"),
        ("en;q=0.1, de;q=0.9", "de"),  # by quality, not by order
        ("xx, pt-BR;q=0.5", "pt"),
        ("zh-CN,zh;q=0.9", "zh_Hans"),
        ("tlh", "en"),
        ("", "en"),
        (";;;q=,", "en"),
    ],
)
def test_accept_language_picks_the_best_supported_locale(header, expected):
    app = Flask(__name__)
    for _ in range(2):  # the second answer comes from the cache of parsed headers
        with app.test_request_context(headers={"Accept-Language": header}):
            assert select_locale() == expected


def test_the_choice_and_the_cookie_come_before_the_header():
    app = Flask(__name__)
    headers = {"Accept-Language": "de", "Cookie": f"{COOKIE}=ja"}
    with app.test_request_context(headers=headers):
        assert select_locale() == "ja"
    with app.test_request_context("/?lang=ar", headers=headers):
        assert select_locale() == "ar"


@pytest.mark.parametrize(
    ("value", "uom", "locale", "expected"),
    [
        (12500.0, "KGM", "de", "12.500 kg"),
        (12500.0, "KGM", "en", "12,500 kg"),
        (500, "LTR", "de", "500 l"),
        (0.75, "LTR", "fr", "0,75\u202fl"),  # French: a narrow no-break space
        (4, "EA", "en", "4"),  # a count has no unit word
        (1500.5, "XYZ", "de", "1.500,5 XYZ"),  # an unknown code is shown as written
        (3, None, "en", "3"),
    ],
)
def test_a_quantity_reads_in_the_readers_numbers_and_units(value, uom, locale, expected):
    from tracemark.i18n import quantity_text

    assert quantity_text(value, uom, locale) == expected
