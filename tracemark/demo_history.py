"""The demo's past: about ninety days of what a brand's boards and traces show, so a new
user's first look tells a story.

Consumer scans across countries and languages (mostly first scans, some repeats, a few
labels cloned and scanned in several countries, forged codes sold in one market), the
forgery reports shoppers sent, inspections on three lines with some failures, incoming
lots from three suppliers (one failing its check), shipments to the distribution centre
(one whose temperature logger raised an alarm, one still on its way), a batch put on hold
after a failed check and a recalled one, both sold and scanned before and after (their
scans since then answered "on hold" and "recalled").

Everything is drawn from one seeded random generator, relative to the day the demo is
first set up, and written in bulk: it adds well under a second to the demo's start.
"""

from __future__ import annotations

import datetime as dt
import random
import secrets

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from signing.gs1 import gtin_check_digit
from tracemark import catalog
from tracemark.codes.printing import batch_urls
from tracemark.epcis import identifiers as epc
from tracemark.epcis.schema import EPCIS_CONTEXT
from tracemark.models import Batch, Brand, ScanEvent, Site, Unit, UnitScanState
from tracemark.models.base import as_utc
from tracemark.reporting import forgery
from tracemark.trace import capture, supply
from tracemark.trace import events as trace

DAYS = 90
#: Where the demo's genuine bottles are scanned, with the page language and a weight.
MARKETS = (
    ("DE", "de", 30), ("ES", "es", 18), ("FR", "fr", 14), ("NL", "en", 8), ("GB", "en", 8),
    ("US", "en", 7), ("PT", "pt", 5), ("CN", "zh_Hans", 4), ("JP", "ja", 3), ("AE", "ar", 3),
)  # fmt: skip
#: The lots of the demo's past: (lot, line, days ago produced, QC defects or None).
PAST_BATCHES = (
    ("L2307A", "Line 1", 84, None),
    ("L2309A", "Line 2", 75, None),
    ("L2311C", "Line 3", 66, ("fill_level",)),
    ("L2313A", "Line 1", 52, None),
    ("L2315B", "Line 2", 40, None),
    ("L2317C", "Line 3", 27, ("seal_intact", "fill_level")),
    ("L2319A", "Line 1", 15, None),
    ("L2321B", "Line 2", 6, None),
)
HELD_LOT, RECALLED_LOT = "L2317C", "L2311C"
#: How many days ago the held lot was held and the recalled lot recalled.
HELD_DAYS_AGO, RECALLED_DAYS_AGO = 9, 21
#: What a scan of a unit answered once its batch was held or recalled.
WITHHELD = {"on_hold": ("batch_on_hold", "on_hold"), "recalled": ("batch_recalled", "recalled")}
#: The lot still on its way to the distribution centre.
IN_TRANSIT_LOT = "L2321B"
SUPPLIERS = (
    ("Olivar Coop", "ES", "Olive oil, bulk", "OIL", True),
    ("Vidros SA", "PT", "Bottle 1 l", "GLS", True),
    ("Tapones Norte", "ES", "Screw cap", "CAP", False),  # one lot fails its check
)
FORGED_MARKET = ("TR", "en", "Istanbul", ("Grand Bazaar stall 14", "Kapali Carsi Gida"))
NOTICES = {
    HELD_LOT: {
        "en": "This batch is held while a failed seal check is investigated.",
        "es": "Este lote está retenido mientras se investiga un control de cierre fallido.",
        "de": "Diese Charge ist gesperrt, bis eine fehlerhafte Verschlussprüfung geklärt ist.",
    },
    RECALLED_LOT: {
        "en": "Bottles of this lot may be under-filled. Return them to the shop for a refund.",
        "es": "Las botellas de este lote pueden estar poco llenas. Devuélvalas en la tienda.",
        "fr": "Les bouteilles de ce lot peuvent être mal remplies. Rapportez-les au magasin.",
        "de": "Flaschen dieses Loses sind womöglich unterfüllt. Bringen Sie sie ins Geschäft.",
    },
}


def _hex(rng: random.Random) -> str:
    return f"{rng.getrandbits(128):032x}"


def _at(rng: random.Random, today: dt.date, days_ago: float) -> dt.datetime:
    day = dt.datetime.combine(today, dt.time(), dt.UTC) - dt.timedelta(days=days_ago)
    return day + dt.timedelta(hours=rng.uniform(8, 21))


#: Past lots whose codes are issued (and scanned) too, with how many codes.
ISSUED_PAST = {"L2307A": 250, "L2313A": 250, RECALLED_LOT: 200, HELD_LOT: 150}


def seed_batches(session: Session, batch: Batch, today: dt.date) -> dict[str, int]:
    """First step: the earlier lots of the demo product (ids by lot), inspected; the
    caller issues codes for :data:`ISSUED_PAST` before :func:`seed`."""
    site = session.get(Site, batch.site_id)
    return {lot: past.id for lot, past in _past_batches(session, batch, site, today).items()}


def seed(session: Session, brand: Brand, batch: Batch, lots: dict[str, int], today: dt.date):
    """Second step: the held and recalled lots, the supply chain, scans, clones,
    forgeries and reports."""
    rng = random.Random(2026)
    site = session.get(Site, batch.site_id)
    past_lots = {lot: session.get_one(Batch, batch_id) for lot, batch_id in lots.items()}
    for lot, status, days_ago in (
        (HELD_LOT, "on_hold", HELD_DAYS_AGO),
        (RECALLED_LOT, "recalled", RECALLED_DAYS_AGO),
    ):
        catalog.set_batch_status(session, past_lots[lot], status, NOTICES[lot])
        past_lots[lot].status_since = _at(rng, today, days_ago)  # sold, then held or recalled
    _supply_chain(session, brand, batch, site, today, past_lots)
    scanned = [batch, *(past_lots[lot] for lot in ISSUED_PAST)]
    _scans(session, rng, brand, scanned, today)
    _forgeries(session, rng, batch, today)
    session.flush()


def _past_batches(session: Session, batch: Batch, site: Site, today: dt.date) -> dict:
    """Earlier lots of the product on three lines, each inspected once (two failing)."""
    made = {}
    for lot, line, days_ago, defects in PAST_BATCHES:
        produced = today - dt.timedelta(days=days_ago)
        past = catalog.create_batch(
            session, batch.product, lot, production_date=produced,
            expiry_date=produced + dt.timedelta(days=540), site=site, line=line,
        )  # fmt: skip
        when = dt.datetime.combine(produced, dt.time(9), dt.UTC)
        trace.record_event(session, past, "commissioning", when, site=site)
        tests = [
            {"test": name, "result": "fail" if name in (defects or ()) else "pass"}
            for name in ("fill_level", "seal_intact", "peroxide")
        ]
        trace.record_event(
            session, past, "inspecting", when + dt.timedelta(hours=5), site=site,
            disposition="non_conformant" if defects else "conformant",
            data={"tm:qc": tests, "tm:line": line},
        )  # fmt: skip
        made[lot] = past
    session.flush()
    return made


def _supply_chain(
    session: Session, brand: Brand, batch: Batch, site: Site, today: dt.date, lots: dict
):
    """Incoming lots and their checks, the demo lot's shipment with a cold-chain alarm,
    the held and recalled lots' shipments, and one still in transit."""
    mill = site.location_id or "urn:epc:id:sgln:9506000.00000.0"
    site.location_id = mill
    hub = catalog.create_site(session, brand, "Distribution centre Venlo", country="NL")
    hub.location_id = "urn:epc:id:sgln:9506000.00001.0"
    events = []
    start = dt.datetime.combine(today - dt.timedelta(days=DAYS - 2), dt.time(7), dt.UTC)
    for n, (name, country, material, code, passes) in enumerate(SUPPLIERS):
        supplier = supply.create_supplier(session, brand, name, country=country)
        for k in range(3):
            lot_number = f"{code}-{24 + k}"
            body = f"0{4012345 + n:07d}{k:05d}"
            gtin = body + str(gtin_check_digit(body))
            received = start + dt.timedelta(days=25 * k + n)
            lot = supply.receive_lot(
                session, supplier, material, lot_number, gtin=gtin, received_on=received.date()
            )
            ok = passes or k != 1
            test = (
                {"test": "visual", "result": "pass"}
                if ok
                else {"test": "visual", "result": "fail", "defect": "cracked_cap"}
            )
            events.append(_event(
                f"urn:uuid:{secrets.token_hex(8)}", received, bizStep="inspecting",
                action="OBSERVE", disposition="conformant" if ok else "non_conformant",
                quantityList=[{"epcClass": lot.epc_class}], readPoint={"id": mill},
                **{"tm:qc": [test]},
            ))  # fmt: skip
    shipped = dt.datetime.combine(today - dt.timedelta(days=9), dt.time(6), dt.UTC)
    lot_class = epc.lot_class(batch.product.gtin, batch.lot)
    events.append(_event(
        f"urn:uuid:{secrets.token_hex(8)}", shipped, bizStep="shipping", action="OBSERVE",
        quantityList=[{"epcClass": lot_class, "quantity": 600, "uom": "EA"}],
        readPoint={"id": mill},
        destinationList=[{"type": "location", "destination": hub.location_id}],
        sensorElementList=[{
            "sensorMetadata": {"time": (shipped + dt.timedelta(hours=30)).isoformat()},
            "sensorReport": [{"type": "gs1:Temperature", "value": 31.5, "uom": "CEL",
                              "exception": "ALARM_CONDITION", "tm:limit": 25}],
        }],
    ))  # fmt: skip
    events.append(_event(
        f"urn:uuid:{secrets.token_hex(8)}", shipped + dt.timedelta(days=2), bizStep="receiving",
        action="OBSERVE", quantityList=[{"epcClass": lot_class, "quantity": 600, "uom": "EA"}],
        readPoint={"id": hub.location_id},
    ))  # fmt: skip
    for lot, quantity in ((RECALLED_LOT, 200), (HELD_LOT, 150), (IN_TRANSIT_LOT, 300)):
        past = lots[lot]
        sent = dt.datetime.combine(past.production_date + dt.timedelta(days=2), dt.time(6), dt.UTC)
        moved = [{"epcClass": epc.lot_class(past.product.gtin, lot), "quantity": quantity,
                  "uom": "EA"}]  # fmt: skip
        events.append(_event(
            f"urn:uuid:{secrets.token_hex(8)}", sent, bizStep="shipping", action="OBSERVE",
            quantityList=moved, readPoint={"id": mill},
            destinationList=[{"type": "location", "destination": hub.location_id}],
        ))  # fmt: skip
        if lot != IN_TRANSIT_LOT:
            events.append(_event(
                f"urn:uuid:{secrets.token_hex(8)}", sent + dt.timedelta(days=2),
                bizStep="receiving", action="OBSERVE", quantityList=moved,
                readPoint={"id": hub.location_id},
            ))  # fmt: skip
    session.flush()
    capture.capture_document(session, brand, {
        "@context": [EPCIS_CONTEXT], "type": "EPCISDocument", "schemaVersion": "2.0",
        "creationDate": today.isoformat() + "T00:00:00Z", "epcisBody": {"eventList": events},
    })  # fmt: skip


def _event(event_id: str, when: dt.datetime, **fields) -> dict:
    return {
        "type": "ObjectEvent", "eventID": event_id,
        "eventTime": when.isoformat().replace("+00:00", "Z"), "eventTimeZoneOffset": "+00:00",
        **fields,
    }  # fmt: skip


def _scans(session: Session, rng: random.Random, brand: Brand, batches: list, today: dt.date):
    """Consumer scans of the issued lots' units over the last :data:`DAYS` days (each
    from a day after its lot was made): first scans, repeats, a few clones, and since a
    lot was held or recalled, what that answers (:data:`WITHHELD`); each unit's scan
    state kept in step."""
    weights = [w for _c, _l, w in MARKETS]
    events, states = [], []
    for index, lot in enumerate(batches):
        units = list(
            session.scalars(select(Unit.id).where(Unit.batch_id == lot.id).order_by(Unit.seq))
        )
        # the demo lot's first units stay unscanned: the sample it prints is a first scan
        scanned = units[50:650] if index == 0 else units[: int(len(units) * 0.8)]
        clones = set(scanned[:4])
        made = lot.production_date or today - dt.timedelta(days=DAYS)
        oldest = max(2, min(DAYS - 1, (today - made).days - 2))
        withheld, since = WITHHELD.get(lot.status.value), as_utc(lot.status_since)
        for unit_id in scanned:
            rows = _unit_scans(rng, today, oldest, unit_id in clones, weights)
            if withheld is not None:
                rows = [(r[0], *withheld, *r[3:]) if r[0] >= since else r for r in rows]
            for when, verdict, reason, where, language, who in rows:
                events.append({
                    "brand_id": brand.id, "unit_id": unit_id, "scanned_at": when,
                    "verdict": verdict, "reason": reason, "country": where, "locale": language,
                    "device_hash": who, "network_hash": _hex(rng),
                    "device_class": rng.choice(("mobile", "mobile", "mobile", "desktop")),
                })  # fmt: skip
            first, last = rows[0], rows[-1]
            # some buyers register their bottle with its scratch-off PIN
            claimed = first[0] + dt.timedelta(minutes=5) if rng.random() < 0.07 else None
            states.append({
                "unit_id": unit_id, "scan_count": len(rows), "first_scan_at": first[0],
                "first_country": first[3], "last_scan_at": last[0], "last_country": last[3],
                "last_country_at": last[0], "countries": len({r[3] for r in rows}),
                "claimed_at": claimed if unit_id not in clones else None,
            })  # fmt: skip
    session.execute(insert(ScanEvent), events)
    session.execute(insert(UnitScanState), states)


def _unit_scans(rng: random.Random, today: dt.date, oldest: int, clone: bool, weights) -> list:
    country, locale, _w = rng.choices(MARKETS, weights)[0]
    first = _at(rng, today, rng.uniform(1, oldest))
    device = _hex(rng)
    rows = [(first, "genuine_first_scan", "first_scan", country, locale, device)]
    if clone:  # the copied label turns up in other countries within days
        for n in range(rng.randint(5, 8)):
            other, other_locale, _w = rng.choice(MARKETS[:6])
            when = first + dt.timedelta(hours=8 + 20 * n)
            if when.date() < today:
                rows.append((when, "suspicious_copy", "many_countries", other, other_locale,
                             _hex(rng)))  # fmt: skip
    elif rng.random() < 0.3:
        later = first + dt.timedelta(days=rng.uniform(0.1, 10))
        if later.date() < today:
            rows.append((later, "genuine_scanned_before", "scanned_before", country, locale,
                         device))  # fmt: skip
    return rows


def _forgeries(session: Session, rng: random.Random, batch: Batch, today: dt.date):
    """Forged copies of the demo label sold in one market: their scans (counted for the
    brand the code names) and the reports shoppers sent about them."""
    country, locale, city, shops = FORGED_MARKET
    url = next(batch_urls(session, batch, "http://demo"))[1]
    head, signature = url.rsplit(".", 1)
    forged = (
        head + "." + ("A" if signature[10] != "A" else "B").join((signature[:10], signature[11:]))
    )
    code = forged[forged.index("/01/") :]
    events = [
        {"brand_id": batch.brand_id, "unit_id": None,
         "scanned_at": _at(rng, today, rng.uniform(1, 35)), "verdict": "not_genuine",
         "reason": "bad_signature", "country": country, "locale": locale,
         "device_hash": _hex(rng), "network_hash": _hex(rng), "device_class": "mobile"}
        for _ in range(46)
    ]  # fmt: skip
    session.execute(insert(ScanEvent), events)
    for n in range(7):
        report = forgery.file_report(
            session, code, "not_genuine", shop=shops[n % 2], city=city, country=country,
            locale=locale, contact="" if n % 3 else f"buyer{n}@mail.example",
        )  # fmt: skip
        report.created_at = _at(rng, today, rng.uniform(1, 30))
    online = forgery.file_report(
        session,
        code,
        "not_genuine",
        online_url="https://bargain-oils.example/item/5521",
        country="DE",
        locale="de",
    )
    online.created_at = _at(rng, today, 4)
    session.flush()


def seeded(session: Session, brand: Brand) -> bool:
    """Whether the demo's past is written already (its first past lot exists)."""
    return (
        session.scalar(
            select(Batch.id).where(Batch.brand_id == brand.id, Batch.lot == PAST_BATCHES[0][0])
        )
        is not None
    )
