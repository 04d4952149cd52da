"""A provenance statement as lines of text, for `tracemark verify-statement`.

A statement whose signature checked still comes from outside: every value is shown
defensively (unexpected shapes are skipped, control characters escaped), so no statement
can break the output or write terminal escape sequences.
"""

from __future__ import annotations

from typing import Any


def _text(value: Any) -> str:
    if value is None:
        return "—"
    text = value if isinstance(value, str) else str(value)
    return "".join(ch if ch.isprintable() else f"\\x{ord(ch):02x}" for ch in text[:500])


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def statement_lines(statement: dict[str, Any]) -> list[str]:
    """What the statement says: issuer, product, batch, origin, documents, journey, and
    where the resolver lists the batch's links."""
    issuer, product = _object(statement.get("issuer")), _object(statement.get("product"))
    batch, origin = _object(statement.get("batch")), _object(statement.get("origin"))
    lines = [
        f"statement  {_text(statement.get('id'))}",
        f"issued     {_text(statement.get('issued_at'))}"
        f" by {_text(issuer.get('name'))} ({_text(issuer.get('brand'))})",
        f"product    {_text(product.get('name'))}  GTIN {_text(product.get('gtin'))}",
        f"batch      lot {_text(batch.get('lot'))}  status {_text(batch.get('status'))}"
        f"  produced {_text(batch.get('production_date'))}"
        f"  expires {_text(batch.get('expiry_date'))}",
    ]
    for locale, notice in _object(batch.get("notice")).items():
        lines.append(f"notice     [{_text(locale)}] {_text(notice)}")
    if origin:
        lines.append(
            f"origin     {_text(origin.get('site'))}, {_text(origin.get('region'))},"
            f" {_text(origin.get('country'))}"
        )
    for document in _list(statement.get("documents")):
        lines.append(
            f"document   {_text(document.get('title'))} ({_text(document.get('issuer'))},"
            f" {_text(document.get('issued_on'))}) sha256 {_text(document.get('sha256'))}"
        )
    for step in _list(statement.get("journey")):
        lines.append(
            f"journey    {_text(step.get('time'))}  {_text(step.get('biz_step'))}"
            f"  {_text(step.get('place'))} {_text(step.get('country'))}"
        )
    if statement.get("journey_truncated") is True:
        lines.append("journey    (cut: the statement carries the first events only)")
    resolver = _object(statement.get("resolver"))
    if resolver.get("batch_linkset"):
        lines.append(f"links      {_text(resolver.get('batch_linkset'))}")
    return lines
