"""SimpleEventQuery parameters, identifiers in any spelling, and GS1-EPC-Format."""

from __future__ import annotations

import pytest

from tests.core.trace.trace_chain import event

EVENTS = "/api/v1/brands/{slug}/events"
SSCC_URN = "urn:epc:id:sscc:0614141.1234567890"
SSCC_LINK = "https://id.gs1.org/00/106141412345678908"
SGLN_URN = "urn:epc:id:sgln:0614141.12345.0"
SGLN_LINK = "https://brand.example/414/0614141123452"
SGTIN_URN = "urn:epc:id:sgtin:0614141.812345.6789"
SGTIN_LINK = "https://id.gs1.org/01/80614141123458/21/6789"
LGTIN_LINK = "https://tm.example.com/01/80614141123458/10/L7"


def _capture(client, tenant):
    events = [
        event(
            "AggregationEvent",
            "urn:uuid:pack",
            "2026-10-02T08:00:00.123456+02:00",
            action="ADD",
            bizStep="packing",
            parentID=SSCC_URN,
            childEPCs=[SGTIN_URN],
            readPoint={"id": SGLN_URN},
        ),
        event(
            "ObjectEvent",
            "urn:uuid:ship",
            "2026-10-02T09:00:00+02:00",
            action="OBSERVE",
            bizStep="shipping",
            disposition="in_transit",
            epcList=[SSCC_LINK],
            quantityList=[{"epcClass": LGTIN_LINK, "quantity": 2}],
            bizLocation={"id": SGLN_LINK},
        ),
        event(
            "TransformationEvent",
            "urn:uuid:make",
            "2026-10-01T09:00:00+02:00",
            bizStep="commissioning",
            inputEPCList=[SGTIN_LINK],
            outputQuantityList=[{"epcClass": "urn:epc:class:lgtin:0614141.812345.L7"}],
        ),
    ]
    response = client.post(tenant.url("events"), headers=tenant.headers(), json=events)
    assert response.status_code == 200, response.get_json()


def _ids(client, tenant, query, headers=None):
    response = client.get(
        tenant.url("events"), headers=tenant.headers() | (headers or {}), query_string=query
    )
    assert response.status_code == 200, response.get_json()
    return [e["eventID"] for e in response.get_json()["events"]]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"MATCH_anyEPC": SSCC_LINK}, ["urn:uuid:pack", "urn:uuid:ship"]),  # parent, epcList
        ({"MATCH_anyEPC": SSCC_URN}, ["urn:uuid:pack", "urn:uuid:ship"]),
        ({"MATCH_epc": SSCC_URN}, ["urn:uuid:ship"]),
        ({"MATCH_parentID": SSCC_LINK}, ["urn:uuid:pack"]),
        ({"MATCH_epc": SGTIN_LINK}, ["urn:uuid:pack"]),  # childEPCs
        ({"MATCH_inputEPC": SGTIN_URN}, ["urn:uuid:make"]),
        ({"MATCH_anyEPC": SGTIN_URN}, ["urn:uuid:make", "urn:uuid:pack"]),
        (
            {"MATCH_anyEPC": "urn:epc:idpat:sgtin:0614141.812345.*"},
            ["urn:uuid:make", "urn:uuid:pack"],
        ),
        ({"MATCH_epcClass": "urn:epc:class:lgtin:0614141.812345.L7"}, ["urn:uuid:ship"]),
        ({"MATCH_outputEPCClass": LGTIN_LINK}, ["urn:uuid:make"]),
        ({"MATCH_anyEPCClass": LGTIN_LINK}, ["urn:uuid:make", "urn:uuid:ship"]),
        (
            {"MATCH_anyEPCClass": "https://id.gs1.org/01/80614141123458"},
            ["urn:uuid:make", "urn:uuid:ship"],
        ),
        ({"EQ_readPoint": "https://id.gs1.org/414/0614141123452"}, ["urn:uuid:pack"]),
        ({"WD_readPoint": SGLN_URN}, ["urn:uuid:pack"]),
        ({"EQ_bizLocation": SGLN_URN}, ["urn:uuid:ship"]),
        ({"EQ_eventID": "urn:uuid:ship|urn:uuid:make"}, ["urn:uuid:make", "urn:uuid:ship"]),
        ({"EQ_bizStep": "packing|commissioning"}, ["urn:uuid:make", "urn:uuid:pack"]),
        ({"EQ_disposition": "urn:epcglobal:cbv:disp:in_transit"}, ["urn:uuid:ship"]),
        ({"EQ_action": "ADD"}, ["urn:uuid:pack"]),
        ({"eventType": "TransformationEvent"}, ["urn:uuid:make"]),
        ({"GE_recordTime": "2000-01-01T00:00:00Z", "EQ_bizStep": "shipping"}, ["urn:uuid:ship"]),
        ({"LT_recordTime": "2000-01-01T00:00:00Z"}, []),
        ({"EQ_readPoint": SGLN_URN, "EQ_bizStep": "shipping"}, []),  # all must hold
        ({"EQ_quantity": "2"}, ["urn:uuid:ship"]),
        ({"GE_quantity": "2", "LT_quantity": "2.5"}, ["urn:uuid:ship"]),
        ({"GT_quantity": "2"}, []),
        ({"orderDirection": "DESC"}, ["urn:uuid:ship", "urn:uuid:pack", "urn:uuid:make"]),
        (
            {"orderBy": "eventTime", "orderDirection": "ASC", "EQ_bizStep": "shipping|packing"},
            ["urn:uuid:pack", "urn:uuid:ship"],
        ),
        ({"eventCountLimit": "2"}, ["urn:uuid:make", "urn:uuid:pack"]),
        ({"eventCountLimit": "1", "orderDirection": "DESC"}, ["urn:uuid:ship"]),
    ],
)
def test_standard_query_parameters_find_any_spelling(client, tenant, query, expected):
    _capture(client, tenant)
    assert _ids(client, tenant, query) == expected


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ({"EQ_foo": "x"}, "unknown_parameter"),
        ({"EQ_uom": "KGM"}, "unknown_parameter"),
        ({"orderBy": "bizStep"}, "bad_parameter"),
        ({"orderDirection": "UP"}, "bad_parameter"),
        ({"EQ_quantity": "two"}, "bad_parameter"),
        ({"LT_quantity": "nan"}, "bad_parameter"),
        ({"eventCountLimit": "0"}, "bad_parameter"),
        ({"eventCountLimit": "2", "perPage": "1"}, "bad_parameter"),
        ({"MATCH_epc": "urn:epc:id:sgtin:0614141.812345"}, "bad_parameter"),
        ({"EQ_readPoint": "https://id.gs1.org/414/0614141123453"}, "bad_parameter"),
        ({"eventType": "NoSuchEvent"}, "bad_parameter"),
        ({"EQ_action": "ERASE"}, "bad_parameter"),
        ({"perPage": "0"}, "bad_parameter"),
        ({"nextPageToken": "nope"}, "bad_parameter"),
        ({"GE_recordTime": "yesterday"}, "bad_parameter"),
    ],
)
def test_unknown_or_bad_parameters_are_a_query_parameter_exception(
    client, tenant, conforms, query, code
):
    _capture(client, tenant)
    response = client.get(tenant.url("events"), headers=tenant.headers(), query_string=query)
    assert response.status_code == 400 and response.mimetype == "application/problem+json"
    body = conforms(response, EVENTS)
    assert body["type"] == "epcisException:QueryParameterException"
    assert body["status"] == 400 and body["error"] == code
    assert body["parameter"] == next(iter(query))


def _pack(client, tenant, epc_format):
    response = client.get(
        tenant.url("events"),
        headers=tenant.headers() | {"GS1-EPC-Format": epc_format, "GS1-CBV-Format": "Always_URN"},
        query_string={"EQ_eventID": "urn:uuid:pack|urn:uuid:ship"},
    )
    assert response.headers["GS1-EPC-Format"] == epc_format
    assert response.headers["GS1-CBV-Format"] == "Always_URN"
    pack, ship = sorted(response.get_json()["events"], key=lambda e: e["eventID"])
    assert pack["bizStep"] == "urn:epcglobal:cbv:bizstep:packing"
    return pack, ship


def test_identifiers_come_back_as_gs1_epc_format_asks(db, client, tenant):
    from tracemark import catalog
    from tracemark.models import Brand

    _capture(client, tenant)
    pack, ship = _pack(client, tenant, "No_Preference")
    assert pack["parentID"] == SSCC_LINK and pack["childEPCs"] == [SGTIN_LINK]
    assert pack["readPoint"] == {"id": "https://id.gs1.org/414/0614141123452"}
    assert pack["eventTime"] == "2026-10-02T08:00:00.123456+02:00"  # microseconds kept
    assert ship["bizLocation"] == {"id": "https://id.gs1.org/414/0614141123452"}
    pack, ship = _pack(client, tenant, "Never_Translates")
    assert pack["parentID"] == SSCC_URN and pack["childEPCs"] == [SGTIN_URN]
    assert ship["epcList"] == [SSCC_LINK] and ship["bizLocation"] == {"id": SGLN_LINK}
    assert ship["quantityList"][0]["epcClass"] == LGTIN_LINK
    # URNs: the prefix length each was captured with; a Digital Link with no known
    # prefix stays a Digital Link
    pack, ship = _pack(client, tenant, "Always_EPC_URN")
    assert pack["parentID"] == SSCC_URN and pack["readPoint"] == {"id": SGLN_URN}
    assert ship["epcList"] == [SSCC_LINK]  # this event sent it as a Digital Link
    assert ship["quantityList"][0]["epcClass"] == "https://id.gs1.org/01/80614141123458/10/L7"
    with db.sessions.begin() as session:
        catalog.claim_prefix(session, session.get_one(Brand, tenant.demo.brand.id), "0614141")
    pack, ship = _pack(client, tenant, "Always_EPC_URN")
    assert ship["quantityList"][0]["epcClass"] == "urn:epc:class:lgtin:0614141.812345.L7"
    assert ship["bizLocation"] == {"id": SGLN_URN} and ship["epcList"] == [SSCC_URN]
    bad = client.get(
        tenant.url("events"), headers=tenant.headers() | {"GS1-EPC-Format": "Sometimes"}
    )
    assert bad.status_code == 400 and bad.get_json()["parameter"] == "GS1-EPC-Format"


def test_a_malformed_epc_is_refused_at_its_path(client, tenant):
    bad = event(
        "ObjectEvent",
        "urn:uuid:bad",
        "2026-10-02T09:00:00+02:00",
        action="OBSERVE",
        epcList=[SGTIN_URN, "urn:epc:id:sgtin:0614141.812345"],
    )
    response = client.post(tenant.url("events"), headers=tenant.headers(), json=bad)
    assert response.status_code == 422
    body = response.get_json()
    assert body["error"] == "bad_identifier" and body["path"] == "$.epcList[1]"
    assert "3 fields" in body["message"]


def test_per_page_and_next_page_token_page_through(client, tenant):
    _capture(client, tenant)
    headers = tenant.headers() | {"Accept": "application/ld+json"}
    response = client.get(tenant.url("events") + "?perPage=2", headers=headers)
    assert len(response.get_json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]) == 2
    link = response.headers["Link"]
    assert "nextPageToken=" in link and "perPage=2" in link
    following = client.get(link[1 : link.index(">")], headers=headers)
    rest = following.get_json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    assert [e["eventID"] for e in rest] == ["urn:uuid:ship"]


def test_newest_first_pages_keep_their_order_and_a_count_limit_has_no_next_page(
    client, tenant, conforms
):
    _capture(client, tenant)
    first = client.get(
        tenant.url("events"),
        headers=tenant.headers(),
        query_string={"orderDirection": "DESC", "limit": "2"},
    )
    page = conforms(first, EVENTS)
    assert [e["eventID"] for e in page["events"]] == ["urn:uuid:ship", "urn:uuid:pack"]
    rest = client.get(
        tenant.url("events"),
        headers=tenant.headers(),
        query_string={"orderDirection": "DESC", "cursor": page["next_cursor"]},
    ).get_json()
    assert [e["eventID"] for e in rest["events"]] == ["urn:uuid:make"]
    capped = client.get(
        tenant.url("events"),
        headers=tenant.headers() | {"Accept": "application/ld+json"},
        query_string={"eventCountLimit": "2"},
    )
    assert "Link" not in capped.headers
    listed = capped.get_json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    assert [e["eventID"] for e in listed] == ["urn:uuid:make", "urn:uuid:pack"]


def test_epcis_xml_is_captured_through_the_api(client, tenant, conforms):
    from pathlib import Path

    data = (Path(__file__).parents[1] / "core/epcis/xml/object_sensor_2_0.xml").read_bytes()
    for content_type in ("application/xml", "text/xml"):
        response = client.post(
            tenant.url("events"), headers=tenant.headers(), data=data, content_type=content_type
        )
        assert response.status_code == 200
    body = conforms(response, EVENTS, "post")
    assert (body["stored"], body["already_held"]) == (0, 3)
    bad = client.post(
        tenant.url("events"),
        headers=tenant.headers(),
        data=b'<!DOCTYPE d [<!ENTITY e SYSTEM "file:///etc/passwd">]><d>&e;</d>',
        content_type="application/xml",
    )
    assert bad.status_code == 400 and conforms(bad, EVENTS, "post")["error"] == "malformed_xml"
