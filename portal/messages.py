"""Every text the portal says about a verdict, translatable, keyed by stable codes."""

from __future__ import annotations

import datetime as dt
import math

from flask_babel import format_date, format_decimal, format_number, get_locale, get_translations
from flask_babel import lazy_gettext as _l

from tracemark.i18n import text_direction
from tracemark.scanning.scans import Verdict

HEADLINES = {
    Verdict.GENUINE_FIRST_SCAN: _l("Genuine product"),
    Verdict.GENUINE_SCANNED_BEFORE: _l("Genuine product, scanned before"),
    Verdict.SUSPICIOUS_COPY: _l("Suspicious: this label may be a copy"),
    Verdict.NOT_GENUINE: _l("Not genuine"),
    Verdict.REVOKED_KEY: _l("Warning: the brand has withdrawn this code"),
    Verdict.BATCH_ON_HOLD: _l("This batch is on hold"),
    Verdict.BATCH_RECALLED: _l("This batch has been recalled"),
    Verdict.SIGNATURE_ONLY: _l("Signature valid, history unavailable"),
    Verdict.UNAVAILABLE: _l("Verification temporarily unavailable"),
}

EXPLANATIONS = {
    Verdict.GENUINE_FIRST_SCAN: _l("This code was issued by %(brand)s and this is its first scan."),
    Verdict.SUSPICIOUS_COPY: _l(
        "This code was issued by %(brand)s, but the way it is being scanned suggests the "
        "label has been copied. Do not rely on it, and please report it."
    ),
    Verdict.NOT_GENUINE: _l(
        "This code was not issued by any brand we know. Do not trust this product's label, "
        "and please report where you bought it."
    ),
    Verdict.REVOKED_KEY: _l(
        "%(brand)s no longer stands behind codes like this one, because they may have "
        "been copied by someone else. The product may not be genuine: please contact "
        "%(brand)s."
    ),
    Verdict.BATCH_ON_HOLD: _l(
        "This code is genuine, but %(brand)s has put its batch on hold. Do not use the "
        "product until further notice."
    ),
    Verdict.BATCH_RECALLED: _l(
        "This code is genuine, but %(brand)s has recalled its batch. Do not use the product; "
        "follow the brand's notice below."
    ),
    Verdict.SIGNATURE_ONLY: _l(
        "The code's signature is valid, but its scan history cannot be checked right now, so "
        "a copied label cannot be ruled out. Please try again later."
    ),
    Verdict.UNAVAILABLE: _l(
        "This code cannot be checked right now. This does not mean it is fake: please try "
        "again in a few minutes."
    ),
}

PATTERNS = {
    "many_networks": _l(
        "In recent weeks it was scanned by many different phones in many different "
        "places, more than one product travels."
    ),
    "many_countries": _l(
        "In recent weeks it was scanned by different phones in several countries."
    ),
}

#: What to do when a code looks copied.
SUSPICIOUS_ADVICE = _l(
    "If you have not bought it yet, buy elsewhere. If you have, keep the receipt and "
    "report where you bought it to %(brand)s: copies of this label may be on sale."
)

#: Shown to everyone but the owner when a unit was claimed.
CLAIMED_NOTE = _l("Claimed by its owner on %(date)s.")
CLAIMED_ADVICE = _l("If you were sold this as new, ask the seller.")
OWNER_NOTE = _l("You registered this product as yours on %(date)s.")

REASONS = {
    "unknown_key": _l("The code names a signing key that no brand has published."),
    "wrong_key_purpose": _l("The code names a key that signs documents, never product codes."),
    "bad_signature": _l("The code's signature does not match its contents: it was altered."),
    "unknown_serial": _l("The brand never issued this serial number."),
    "malformed": _l("This is not a valid product code."),
}


def reason_text(reason: str) -> str:
    return str(REASONS.get(reason.split(":")[0], REASONS["malformed"]))


#: CBV business steps shown in the journey; others are shown as written.
BIZ_STEPS = {
    "commissioning": _l("Produced"),
    "producing": _l("Produced"),
    "inspecting": _l("Inspected"),
    "packing": _l("Packed"),
    "shipping": _l("Shipped"),
    "departing": _l("Shipped"),
    "customs": _l("Cleared customs"),
    "receiving": _l("Received at warehouse"),
    "storing": _l("Stored at warehouse"),
    "retail_selling": _l("At retailer"),
    "accepting": _l("Received by retailer"),
    "arriving": _l("Arrived"),
    "loading": _l("Loaded for transport"),
    "transforming": _l("Processed"),
    "holding": _l("Held for checks"),
}


def biz_step_name(step: str) -> str:
    return str(BIZ_STEPS.get(step, step.replace("_", " ")))


#: Sensor types (CBV ``gs1:…``) named in the excursions; others are shown as written.
SENSOR_TYPES = {
    "gs1:Temperature": _l("Temperature"),
    "gs1:RelativeHumidity": _l("Relative humidity"),
    "gs1:AbsoluteHumidity": _l("Humidity"),
    "gs1:Illuminance": _l("Light"),
    "gs1:Acceleration": _l("Shock"),
    "gs1:Pressure": _l("Pressure"),
}
#: UN/CEFACT units of measure as symbols (symbols are not translated).
UNIT_SYMBOLS = {"CEL": "°C", "FAH": "°F", "KEL": "K", "P1": "%", "A93": "g/m³", "LUX": "lx"}


def sensor_name(sensor_type: str) -> str:
    return str(SENSOR_TYPES.get(sensor_type, sensor_type.removeprefix("gs1:")))


def measure(value: float | None, uom: str | None) -> str:
    """``31.5 °C`` with the number in the page's locale (``31,5 °C`` in German)."""
    if value is None:
        return ""
    symbol = UNIT_SYMBOLS.get(uom or "", uom or "")
    return f"{format_decimal(value)} {symbol}".strip()


def excursion_text(excursion) -> str:
    """What a sensor reported, with the limit it crossed when the report gave one."""
    values = {
        "sensor": sensor_name(excursion.type),
        "value": measure(excursion.value, excursion.uom),
        "limit": measure(excursion.limit, excursion.uom),
    }
    if excursion.value is None:
        return _fill(str(_l("%(sensor)s outside its limits")), **values)
    if excursion.limit is None:
        return _fill(str(_l("%(sensor)s reached %(value)s")), **values)
    return _fill(str(_l("%(sensor)s reached %(value)s (limit %(limit)s)")), **values)


CLAIMS = {
    "claimed": _l(
        "You have claimed this product. This phone is now recognised as its owner's; to "
        "add another phone, enter the PIN on it."
    ),
    "device_added": _l(
        "The PIN is right: this phone is now recognised as the owner's too (claimed on %(date)s)."
    ),
    "no_pin": _l("This product cannot be claimed with a PIN."),
}


def _plural(singular: str, plural: str, n: int, **values) -> str:
    """``ngettext`` with ``%(num)s`` as a locale-formatted number (Flask-Babel's own
    ``ngettext`` inserts the raw integer)."""
    return _fill(get_translations().ungettext(singular, plural, n), **values, num=format_number(n))


def explanation(
    verdict: Verdict, brand: str, scan_count: int, first_scan_at, *, claimed: bool = False
) -> str:
    """The verdict's explanation with the brand, a plural-aware count and a local date.
    For a claimed unit the count goes without the advice about earlier scans: the claim
    note says what to do."""
    if verdict is Verdict.GENUINE_SCANNED_BEFORE and claimed:
        return _plural(
            "This code was issued by %(brand)s. It has been scanned %(num)s time since %(date)s.",
            "This code was issued by %(brand)s. It has been scanned %(num)s times since %(date)s.",
            scan_count,
            brand=brand,
            date=format_date(first_scan_at, "long") if first_scan_at else "",
        )
    if verdict is Verdict.GENUINE_SCANNED_BEFORE:
        return _plural(
            "This code was issued by %(brand)s. It has been scanned %(num)s time since "
            "%(date)s. If you did not scan it before, ask the seller about it.",
            "This code was issued by %(brand)s. It has been scanned %(num)s times since "
            "%(date)s. If you did not scan it before, ask the seller about it.",
            scan_count,
            brand=brand,
            date=format_date(first_scan_at, "long") if first_scan_at else "",
        )
    return _fill(str(EXPLANATIONS[verdict]), brand=brand)


def _fill(text: str, **values: str) -> str:
    """``text % values``, where a value that ends a sentence itself ("Demo Co.") takes
    the place of the sentence's own full stop rather than doubling it, and each value is
    isolated (:func:`isolate`) so a Latin name or a date keeps its order in Arabic."""
    for name, value in values.items():
        if value.endswith("."):
            text = text.replace(f"%({name})s.", f"%({name})s")
    return text % {name: isolate(value) for name, value in values.items()}


#: FIRST STRONG ISOLATE … POP DIRECTIONAL ISOLATE (Unicode bidi, UAX #9).
FSI, PDI = "\u2068", "\u2069"


def isolate(value: object) -> str:
    """``value`` as text, wrapped in Unicode isolates on a right-to-left page: embedded
    in an Arabic sentence, "Demo Olive Oil Co." or "2026/10/20" then keep their own
    direction and order, and the full stop of "Co." stays where it was written. Plain
    text on left-to-right pages, where isolation changes nothing."""
    text = str(value)
    if not text or text_direction(str(get_locale())) != "rtl":
        return text
    return f"{FSI}{text}{PDI}"


def claim_text(
    status: str, claimed_at=None, attempts_left: int | None = None, retry_at=None
) -> str:
    if status == "locked":
        now = dt.datetime.now(dt.UTC)
        minutes = max(1, math.ceil((retry_at - now).total_seconds() / 60)) if retry_at else 60
        return _plural(
            "Too many wrong PINs for this product from your network. Try again in %(num)s minute.",
            "Too many wrong PINs for this product from your network. Try again in %(num)s minutes.",
            minutes,
        )
    if status == "wrong_pin":
        left = attempts_left or 0
        return _plural(
            "This PIN is not right. %(num)s attempt left.",
            "This PIN is not right. %(num)s attempts left.",
            left,
        )
    text = str(CLAIMS[status])
    return _fill(text, date=format_date(claimed_at, "long")) if claimed_at else text


#: What an on-hold or recalled page says when the brand wrote no notice in the page's
#: language (or along its chain to English) for the batch's present status.
DEFAULT_NOTICES = {
    Verdict.BATCH_ON_HOLD: _l(
        "The brand is checking this batch. Do not use the product until the brand "
        "releases the batch; scan the code again later to see its status."
    ),
    Verdict.BATCH_RECALLED: _l(
        "Do not use the product. Return it to the shop where you bought it, or contact "
        "the brand to find out what to do."
    ),
}
