"""Story Markdown → sanitised HTML: what a brand may write, and what never gets through."""

from __future__ import annotations

import pytest

from tests.helpers.content import Elements, assert_harmless
from tracemark.content.richtext import render
from tracemark.models import Image

PICTURE = Image(id=7, sha256="ab" * 32, content_type="image/jpeg", width=640, height=480)


ATTACKS = [
    "<script>alert(1)</script>",
    "Hello <script>alert(1)</script> world",
    "<img src=x onerror=alert(1)>",
    '<a href="javascript:alert(1)">x</a>',
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](&#106;avascript:alert(1))",
    "[click](java\tscript:alert(1))",
    "<javascript:alert(1)>",
    "[ref]\n\n[ref]: javascript:alert(1)",
    "[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![x](data:image/png;base64,iVBORw0KGgo=)",
    "![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    "![x](https://tracker.example/pixel.png)",
    '![x](image:7 "t" onerror=alert(1))',
    "![x](image:8)",
    "![x](/images/8/" + "cd" * 32 + ".png)",
    '<iframe src="https://evil.example"></iframe>',
    "<svg onload=alert(1)>",
    '<div style="position:fixed">x</div>',
    "[x](vbscript:msgbox(1))",
    "[x](file:///etc/passwd)",
    '<a href="https://ok.example" onclick="alert(1)">x</a>',
    "<form action=https://evil.example><button>go</button></form>",
]


@pytest.mark.parametrize("source", ATTACKS)
def test_markup_attacks_never_reach_the_html(source):
    html = render(source, {7: PICTURE})
    assert_harmless(html)
    assert "<script" not in html  # at most as inert text: &lt;script&gt;


def test_raw_html_shows_as_text_never_as_markup():
    html = render("Hi <b>there</b> <img src=x onerror=alert(1)>", {})
    assert Elements(html).found == [("p", {})]
    assert "&lt;b&gt;" in html


def test_allowed_formatting_survives():
    source = (
        "# Harvest\n\n## Grove\n\n##### Small\n\nWe *pick* **early**.\n\n"
        "- one\n- two\n\n3. three\n\n> quoted\n\n"
        "[site](https://acme.example/a?b=1) [mail](mailto:q@acme.example) ![Olive grove](image:7)"
    )
    found = Elements(render(source, {7: PICTURE})).found
    tags = [tag for tag, _ in found]
    # h1 becomes h2 (the story title is the page's h2 level), h5 becomes h4
    assert tags[:3] == ["h2", "h2", "h4"]
    assert {"em", "strong", "ul", "ol", "li", "blockquote"} <= set(tags)
    links = [attrs for tag, attrs in found if tag == "a"]
    assert links == [
        {"href": "https://acme.example/a?b=1", "rel": "nofollow noopener"},
        {"href": "mailto:q@acme.example", "rel": "nofollow noopener"},
    ]
    [image] = [attrs for tag, attrs in found if tag == "img"]
    assert image == {
        "src": f"/images/7/{'ab' * 32}.jpg",
        "width": "640",
        "height": "480",
        "loading": "lazy",
        "decoding": "async",
        "alt": "Olive grove",
    }


def test_a_link_or_picture_that_is_refused_keeps_its_text():
    html = render("[our farm](/farm) and ![a hidden tracker](https://t.example/p.png)", {})
    assert html == "<p>our farm and a hidden tracker</p>\n"
