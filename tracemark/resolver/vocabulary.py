"""Link types: the GS1 Web vocabulary's terms, and how a request may name them.

A link type is stored in compact form (``gs1:pip``); a linkset and a ``Link`` header name
it by its URI (``https://gs1.org/voc/pip``). Link types of other namespaces are absolute
https URIs kept as given, but none may sit in GS1's namespace without being a GS1 term.
"""

from __future__ import annotations

import re

GS1_NAMESPACE = "https://gs1.org/voc/"
#: Older and mirrored spellings of the namespace that requests may use.
_ALIASES = ("http://gs1.org/voc/", "https://ref.gs1.org/voc/", "http://ref.gs1.org/voc/")

#: GS1 Web vocabulary link types (subclasses of gs1:linkType) the resolver recognises.
GS1_LINK_TYPES = frozenset(
    {
        "activityIdeas",
        "allergenInfo",
        "appDownload",
        "certificationInfo",
        "careersInfo",
        "defaultLink",
        "defaultLinkMulti",
        "dpp",
        "epcis",
        "epil",
        "eventsInfo",
        "faqs",
        "handledBy",
        "hasRetailers",
        "homepage",
        "ingredientsInfo",
        "instructions",
        "leaflet",
        "locationInfo",
        "logisticsInfo",
        "loyaltyProgram",
        "masterData",
        "menuInfo",
        "nutritionalInfo",
        "paymentLink",
        "pip",
        "productSustainabilityInfo",
        "promotion",
        "purchaseSuppliesOrAccessories",
        "quickStartGuide",
        "recallStatus",
        "recipeInfo",
        "registerProduct",
        "registryEntry",
        "relatedImage",
        "relatedVideo",
        "review",
        "safetyInfo",
        "scheduleTime",
        "serviceInfo",
        "smpc",
        "socialMedia",
        "statisticInfo",
        "subscribeRegister",
        "support",
        "sustainabilityInfo",
        "traceability",
        "tutorial",
        "userAgreement",
        "verificationService",
        "whatsInTheBox",
    }
)
#: Request values that ask for the whole linkset rather than one link.
LINKSET_VALUES = frozenset({"linkset", "all"})
_OTHER = re.compile(r"https://[A-Za-z0-9.-]+(/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*)?")


class UnknownLinkType(ValueError):
    """Not a GS1 term and not another namespace's https URI."""


def compact(link_type: str) -> str:
    """The stored form of ``link_type`` (``gs1:pip``, ``https://gs1.org/voc/pip`` or an
    alias of the namespace → ``gs1:pip``; another namespace's URI as given).

    :raises UnknownLinkType: neither a GS1 term nor an https URI outside GS1's namespace.
    """
    link_type = link_type.strip()
    term = None
    if link_type.startswith("gs1:"):
        term = link_type[4:]
    else:
        for namespace in (GS1_NAMESPACE, *_ALIASES):
            if link_type.startswith(namespace):
                term = link_type[len(namespace) :]
    if term is not None:
        if term not in GS1_LINK_TYPES:
            raise UnknownLinkType(link_type)
        return f"gs1:{term}"
    if len(link_type) > 200 or not _OTHER.fullmatch(link_type):
        raise UnknownLinkType(link_type)
    return link_type


def uri(link_type: str) -> str:
    """The relation type URI of a stored link type."""
    if link_type.startswith("gs1:"):
        return GS1_NAMESPACE + link_type[4:]
    return link_type
