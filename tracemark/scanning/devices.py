"""A scan's coarse device class, from the user agent at scan time (the agent is not kept).

Five classes are all a marketing board needs, and few enough that no agent can be told
apart by its class: ``mobile``, ``tablet``, ``desktop``, ``bot`` and ``other``. The rules
are a handful of substring checks, in order, on the lowered agent; results are cached
because a deployment sees the same few hundred agents over and over.
"""

from __future__ import annotations

from functools import lru_cache

MOBILE, TABLET, DESKTOP, BOT, OTHER = "mobile", "tablet", "desktop", "bot", "other"
DEVICE_CLASSES = (MOBILE, TABLET, DESKTOP, BOT, OTHER)

_BOT = ("bot", "crawl", "spider", "slurp", "headless", "curl/", "wget/", "python-", "java/",
        "go-http-client", "okhttp", "libwww", "httpclient", "scrapy",
        "facebookexternalhit")  # fmt: skip
_TABLET = ("ipad", "tablet", "kindle", "silk/", "playbook", "sm-t", "nexus 7", "nexus 9")
_MOBILE = ("mobi", "iphone", "ipod", "android", "windows phone", "opera mini", "blackberry")
_DESKTOP = ("windows nt", "macintosh", "mac os x", "x11", "cros", "linux")
#: Agents longer than this are cut before matching (and before caching).
MAX_AGENT = 512


def device_class(user_agent: str | None) -> str:
    """The class of the device behind ``user_agent``: one of :data:`DEVICE_CLASSES`."""
    if not user_agent:
        return OTHER
    return _classify(user_agent[:MAX_AGENT])


@lru_cache(maxsize=4096)
def _classify(agent: str) -> str:
    agent = agent.lower()
    if any(mark in agent for mark in _BOT):
        return BOT
    # Android tablets say "Android" without "Mobile"; iPadOS may pose as a Mac (desktop).
    if any(mark in agent for mark in _TABLET) or ("android" in agent and "mobile" not in agent):
        return TABLET
    if any(mark in agent for mark in _MOBILE):
        return MOBILE
    if any(mark in agent for mark in _DESKTOP):
        return DESKTOP
    return OTHER
