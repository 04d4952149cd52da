"""The brand staff application: accounts, roles, the audit log, the catalog, signing keys,
issuance and labels, stories and reports, scan analytics, API tokens, and the regulator view
(provenance and signed statements).

``bp`` is registered, and ``admin.auth.init_app`` called, by ``tracemark.app.create_app``.
"""

from admin import account as _account  # noqa: F401  (registers the account page on bp)
from admin import analytics as _analytics  # noqa: F401  (registers the analytics board on bp)
from admin import api_tokens as _api_tokens  # noqa: F401  (registers the token page on bp)
from admin import audit_export as _audit_export  # noqa: F401  (registers the export on bp)
from admin import catalog as _catalog  # noqa: F401  (registers the catalog pages on bp)
from admin import content as _content  # noqa: F401  (stories, pictures, reports)
from admin import issuance as _issuance  # noqa: F401  (registers the issuance pages on bp)
from admin import keys as _keys  # noqa: F401  (registers the key pages on bp)
from admin import provenance as _provenance  # noqa: F401  (registers the regulator view on bp)
from admin.views import bp

__all__ = ["bp"]
