"""Who may do what in a brand's admin pages: membership, roles, and the 404/403 answers.

A brand the user has no role in, and another brand's object addressed under this brand,
are answered as if they did not exist (404), so a stranger learns nothing of either.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import abort, make_response, request
from flask_babel import gettext
from sqlalchemy.orm import Session

from admin import auth
from tracemark import audit, catalog, errors
from tracemark.accounts import users as accounts
from tracemark.models import Brand, Role, User
from tracemark.web import db_session, error_response

#: The roles that change a brand's data (marketing and regulators only read).
EDITORS = frozenset({Role.OWNER, Role.STAFF})


@dataclass
class Member:
    session: Session
    user: User
    brand: Brand
    role: Role

    @property
    def can_edit(self) -> bool:
        return self.role in EDITORS

    @property
    def actor(self) -> audit.Actor:
        """The member as the actor of the operations they call (which audit themselves)."""
        return audit.Actor.of_user(self.user, self.brand.id)


def member_of(slug: str) -> Member:
    """The signed-in user's standing in the brand; 404 when they have none."""
    session = db_session()
    try:
        brand = catalog.get_brand(session, slug)
    except errors.NotFound:
        abort(404)
    user = auth.signed_in_user()
    role = accounts.role_in(session, user, brand.id)
    if role is None:
        abort(404)
    return Member(session, user, brand, role)


def member_in_roles(slug: str, roles: frozenset[Role], message: str) -> Member:
    """The member when their role is one of ``roles``; else the request is stopped with a
    403 saying ``message``. No role in the brand at all is a 404."""
    member = member_of(slug)
    if member.role not in roles:
        abort(make_response(error_response(403, "forbidden", message)))
    return member


def forbidden():
    return error_response(
        403, "forbidden", gettext("Only the brand's owners and staff can change its catalog.")
    )


def owner_of(slug: str, refusal) -> Member:
    """The signed-in user's standing in the brand when they own it; a 404 when they have no
    role in it, else the request is stopped with ``refusal()`` (a 403)."""
    member = member_of(slug)
    if member.role is not Role.OWNER:
        abort(make_response(refusal()))
    return member


def refuse_unless_editor(member: Member, refusal=forbidden) -> None:
    """Stop the request with ``refusal()`` (a 403) unless the member may change the brand's
    data; views call it after looking up what they address, so a stranger still gets 404."""
    if not member.can_edit:
        abort(make_response(refusal()))


def editing(slug: str, find, *args, refusal=forbidden):
    """The member and what ``find(member, *args)`` looks up in their brand, for a member who
    may change it: the lookup's 404 comes first, so a stranger learns nothing; a reader
    is then stopped with ``refusal()`` (a 403)."""
    member = member_of(slug)
    found = find(member, *args)
    refuse_unless_editor(member, refusal)
    return member, found


def editor_form(member: Member, make_form, refusal=forbidden):
    """The page's form for a member who may change the brand's data; None for one who only
    reads, whose POST is stopped with ``refusal()`` (a 403)."""
    if member.can_edit:
        return make_form()
    if request.method == "POST":
        abort(make_response(refusal()))
    return None


def found_or_404(getter, member: Member, object_id: int):
    try:
        return getter(member.session, member.brand, object_id)
    except errors.NotFound:
        abort(404)


def created(member: Member, form, create, refusals: dict):
    """What ``create()`` made of a valid sent ``form``, committed; None when the form was not
    sent whole, or when the core refused it: the refusal is then shown under the form's field
    that ``refusals`` (``{exception type: (field name, message)}``, first match wins) names.

    ``create`` calls the core operation and returns what it made (never None)."""
    if form is None or not form.validate_on_submit():
        return None
    try:
        made = create()
    except tuple(refusals) as refused:
        field, message = next(
            shown for kind, shown in refusals.items() if isinstance(refused, kind)
        )
        form[field].errors.append(message)
        return None
    member.session.commit()
    return made
