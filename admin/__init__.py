"""The brand staff application: accounts, roles, the audit log, the catalog and signing keys.

``bp`` is registered, and ``admin.auth.init_app`` called, by ``tracemark.app.create_app``.
"""

from admin import account as _account  # noqa: F401  (registers the account page on bp)
from admin import audit_export as _audit_export  # noqa: F401  (registers the export on bp)
from admin import catalog as _catalog  # noqa: F401  (registers the catalog pages on bp)
from admin import keys as _keys  # noqa: F401  (registers the key pages on bp)
from admin.views import bp

__all__ = ["bp"]
