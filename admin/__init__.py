"""The brand staff application: accounts, roles, the audit log, the catalog, signing keys
and scan analytics.

``bp`` is registered, and ``admin.auth.init_app`` called, by ``tracemark.app.create_app``.
"""

from admin import analytics as _analytics  # noqa: F401  (registers the analytics board on bp)
from admin import catalog as _catalog  # noqa: F401  (registers the catalog pages on bp)
from admin import keys as _keys  # noqa: F401  (registers the key pages on bp)
from admin.views import bp

__all__ = ["bp"]
