"""What GS1 Digital Link compression needs to know of the GS1 Application Identifiers:
how long an AI is from its first two digits, each AI's value format, and the predefined AI
sequences (the compression standard's tables; the formats as the GS1 General
Specifications write them)."""

from __future__ import annotations

#: How many digits an AI has, by its first two.
AI_LENGTH: dict[str, int] = {
    **dict.fromkeys(("00", "01", "02", "03", "10", "11", "12", "13", "15", "16", "17"), 2),
    **dict.fromkeys(("20", "21", "22", "30", "37"), 2),
    **dict.fromkeys((str(n) for n in range(90, 100)), 2),
    **dict.fromkeys(("23", "24", "25", "40", "41", "42", "71"), 3),
    **dict.fromkeys(("31", "32", "33", "34", "35", "36", "39", "70", "72", "80", "81", "82"), 4),
}


def _formats() -> dict[str, str]:
    """Each AI's value format as the GS1 General Specifications write it."""
    table = {
        "00": "N18",
        "01": "N14",
        "02": "N14",
        "03": "N14",
        "10": "X..20",
        "20": "N2",
        "21": "X..20",
        "22": "X..20",
        "235": "X..28",
        "240": "X..30",
        "241": "X..30",
        "242": "N..6",
        "243": "X..20",
        "250": "X..30",
        "251": "X..30",
        "253": "N13+X..17",
        "254": "X..20",
        "255": "N13+N..12",
        "30": "N..8",
        "37": "N..8",
        "400": "X..30",
        "401": "X..30",
        "402": "N17",
        "403": "X..30",
        "420": "X..20",
        "421": "N3+X..9",
        "422": "N3",
        "423": "N3+N..12",
        "424": "N3",
        "425": "N3+N..12",
        "426": "N3",
        "427": "X..3",
        "7001": "N13",
        "7002": "X..30",
        "7003": "N10",
        "7004": "N..4",
        "7005": "X..12",
        "7006": "N6",
        "7007": "N6+N..6",
        "7008": "X..3",
        "7009": "X..10",
        "7010": "X..2",
        "7020": "X..20",
        "7021": "X..20",
        "7022": "X..20",
        "7023": "X..30",
        "7040": "N1+X3",
        "7240": "X..20",
        "8001": "N14",
        "8002": "X..20",
        "8003": "N14+X..16",
        "8004": "X..30",
        "8005": "N6",
        "8006": "N18",  # N14+N2+N2, all fixed digits: one number
        "8007": "X..34",
        "8008": "N8+N..4",
        "8009": "X..50",
        "8010": "X..30",
        "8011": "N..12",
        "8012": "X..20",
        "8013": "X..25",
        "8017": "N18",
        "8018": "N18",
        "8019": "N..10",
        "8020": "X..25",
        "8026": "N18",
        "8110": "X..70",
        "8111": "N4",
        "8112": "X..70",
        "8200": "X..70",
        "90": "X..30",
    }
    table.update(dict.fromkeys(("11", "12", "13", "15", "16", "17"), "N6"))
    table.update((str(ai), "N13") for ai in range(410, 418))
    table.update((str(ai), "X..20") for ai in range(710, 717))
    table.update((str(ai), "X..90") for ai in range(91, 100))
    for family in range(310, 370):  # trade measures: 6 digits, the last AI digit the decimals
        table.update((f"{family}{decimals}", "N6") for decimals in range(6))
    for decimals in range(10):
        table[f"390{decimals}"] = "N..15"
        table[f"391{decimals}"] = "N3+N..15"
        table[f"392{decimals}"] = "N..15"
        table[f"393{decimals}"] = "N3+N..15"
        table[f"703{decimals}"] = "N3+X..27"
        table[f"723{decimals}"] = "X2+X..28"
    table.update((f"394{decimals}", "N4") for decimals in range(4))
    table.update((f"395{decimals}", "N6") for decimals in range(6))
    return table


#: AI → value format (``N14``, ``X..20``, ``N3+X..9``…).
FORMATS: dict[str, str] = _formats()

#: Predefined AI sequences, by the two hex digits (outside 00-99) that stand for them.
SEQUENCES: dict[str, tuple[str, ...]] = {
    "0A": ("01", "22"),
    "0B": ("01", "10"),
    "0C": ("01", "21"),
    "0D": ("01", "17"),
    "0E": ("01", "7003"),
    "0F": ("01", "30"),
    "1A": ("01", "10", "21", "17"),
    "1B": ("01", "15"),
    "1C": ("01", "11"),
    "1D": ("01", "16"),
    "1E": ("01", "91"),
    "1F": ("01", "10", "15"),
    **{f"2{'ABCDEF'[n]}": ("01", f"310{n}") for n in range(6)},
    **{f"3{'ABCDEF'[n]}": ("01", f"320{n}") for n in range(6)},
    "9A": ("8010", "8011"),
    "9B": ("8017", "8019"),
    "9C": ("8018", "8019"),
    "9D": ("414", "254"),
    **{f"A{n}": ("01", f"392{n}") for n in range(10)},
    **{f"C{n}": ("255", f"390{n}") for n in range(10)},
    **{f"C{'ABCD'[n]}": ("255", f"394{n}") for n in range(4)},
}
