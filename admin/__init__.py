"""The brand staff application: accounts, roles and the audit log so far.

``bp`` is registered, and ``admin.auth.init_app`` called, by ``tracemark.app.create_app``.
"""

from admin.views import bp

__all__ = ["bp"]
