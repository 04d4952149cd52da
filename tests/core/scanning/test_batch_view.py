"""The consumer's view of a batch: rendered stories, pictures, and how late a change shows."""

from __future__ import annotations

from types import SimpleNamespace

from tests.helpers.content import photo
from tracemark.content import images
from tracemark.content import stories as content
from tracemark.models import PublishState
from tracemark.scanning import batch_view as batch_view_module
from tracemark.scanning.batch_view import BatchViewCache, batch_view


def test_a_change_shows_within_the_cache_lifetime_or_at_once_when_forgotten(db, demo, monkeypatch):
    now = [1000.0]  # the cache's clock, moved by hand: a slow machine changes nothing
    monkeypatch.setattr(batch_view_module, "time", SimpleNamespace(monotonic=lambda: now[0]))
    cache = BatchViewCache(ttl=0.3)
    with db.sessions() as session:
        batch = session.merge(demo.batch)
        assert cache.get(session, batch.id, {}, "en").story_html is None
        story = content.add_story(session, batch, "en", "Harvest", "*Early*", publish=True)
        session.commit()
        now[0] += 0.29
        assert cache.get(session, batch.id, {}, "en").story_html is None  # still cached
        now[0] += 0.06
        assert cache.get(session, batch.id, {}, "en").story_html == "<p><em>Early</em></p>\n"
        content.set_state(story, PublishState.DRAFT)
        session.commit()
        cache.forget({batch.id + 1})  # another batch: this view stays
        assert cache.get(session, batch.id, {}, "en").story_html is not None
        cache.forget({batch.id})
        assert cache.get(session, batch.id, {}, "en").story_html is None


def test_the_view_has_the_products_published_pictures_and_the_storys_own(db, demo):
    with db.sessions.begin() as session:
        batch, product = session.merge(demo.batch), session.merge(demo.product)
        shown = images.add_image(session, product, photo((50, 40)), "Bottle")
        images.add_image(session, product, photo((20, 20)), "Draft")
        images.set_state(shown, PublishState.PUBLISHED)
        grove = images.add_image(session, batch, photo((30, 20)), "Grove")
        body = f"![Grove](image:{grove.id}) ![Foreign](image:{grove.id + 1000})"
        content.add_story(session, batch, "en", "T", body, publish=True)
        session.flush()
        view = batch_view(session, batch.id, "en")
        assert [(i.path, i.width, i.height, i.alt) for i in view.images] == [
            (images.image_path(shown), 50, 40, "Bottle")
        ]
        assert images.image_path(grove) in view.story_html
        assert view.story_html.count("<img") == 1 and "Foreign" in view.story_html
        assert view.story_body == body  # the source, for the JSON API
