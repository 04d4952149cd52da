"""What signing in and out leaves in the audit log: a success, a failure, a sign-out.

The admin app's sign-in views call these, so that the record of who entered, who tried
and who left is written in one place, as every other operation writes its own.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from tracemark import audit
from tracemark.accounts import second_factor
from tracemark.accounts import users as accounts
from tracemark.models import User


def signed_in(session: Session, user: User, *, second_factor_kind: str | None = None) -> None:
    """``user`` is in: audited as ``user.login`` (with the second factor used, if any); a
    recovery code spent is audited first as ``user.recovery_code_used`` with those left."""
    actor = audit.Actor.of_user(user)
    if second_factor_kind == "recovery_code":
        left = second_factor.recovery_codes_left(session, user)
        audit.log(session, actor, "user.recovery_code_used", "user", user.id, {"left": left})
    details = {"second_factor": second_factor_kind} if second_factor_kind else {}
    audit.log(session, actor, "user.login", "user", user.id, details)


def sign_in_failed(
    session: Session,
    email: str | None,
    *,
    locked: bool = False,
    ceiling: bool = False,
    user: User | None = None,
    stage: str | None = None,
) -> None:
    """A refused sign-in, audited as ``user.login_failed``: by nobody, naming the email
    tried (only when it looks like one: never a password typed in the wrong box), and
    whether the attempt met a lock (``locked``) or the account-wide ceiling with the right
    password from an unknown device (``ceiling``); or, at the second ``stage``, by the
    user whose password was right."""
    if user is not None:
        details = {"stage": stage} if stage else {}
        audit.log(session, audit.Actor.of_user(user), "user.login_failed", "user", user.id,
                  details)  # fmt: skip
        return
    details: dict = {"email": email} if email and accounts.is_email(email) else {}
    if locked:
        details["locked"] = True
    if ceiling:
        details["ceiling"] = True
    audit.log(session, audit.ANONYMOUS, "user.login_failed", details=details)


def signed_out(session: Session, user: User) -> None:
    """``user`` signs out here and everywhere (:func:`accounts.end_sessions`); audited as
    ``user.logout``."""
    accounts.end_sessions(session, user)
    audit.log(session, audit.Actor.of_user(user), "user.logout", "user", user.id)
