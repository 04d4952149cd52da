"""The errors every feature raises for a missing object or a taken unique value.

They live apart from any one feature so that operations of every package (catalog,
supply, rules, checkpoints, the outbox) raise the same two exceptions, and the faces
(admin, API, CLI) map them to a 404 or a form error in one way. With them, the two
session helpers that raise them: a brand's object by id, and an insert that may meet a
unique rule.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

if TYPE_CHECKING:
    from tracemark.models import Brand

_T = TypeVar("_T")


class NotFound(LookupError):
    """The object does not exist, or belongs to another brand."""


class Duplicate(ValueError):
    """A unique rule was broken; ``field`` names the value that is taken
    (``name`` for a site, ``gtin`` for a product, ``lot`` for a batch)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def insert_unique(session: Session, row: _T, field: str, message: str) -> _T:
    """Add ``row`` inside a savepoint; a unique violation (say a concurrent double submit)
    becomes :class:`Duplicate` and leaves the session usable."""
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        raise Duplicate(field, message) from None
    return row


def get_of_brand(session: Session, model: type[_T], brand: Brand, object_id: int) -> _T:
    """The ``model`` row ``object_id`` if it belongs to ``brand`` (rows carry
    ``brand_id``), so an id guessed from another brand reads as missing.

    :raises NotFound: no such row, or one of another brand (the message names the
        table: "no material lot 7 in brand acme").
    """
    row = session.get(model, object_id)
    if row is None or row.brand_id != brand.id:
        what = model.__tablename__.replace("_", " ")
        raise NotFound(f"no {what} {object_id} in brand {brand.slug}")
    return row
