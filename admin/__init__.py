"""The brand staff application: accounts, roles, the audit log, the catalog, signing keys,
issuance and labels, stories and reports, scan analytics, the quality and supply-chain
boards, the regulator view (provenance and signed statements), suppliers and material
lots, traces and recall impact, rules with their outbox, checkpoint templates and
recording, and API tokens.

``bp`` is registered, and ``admin.auth.init_app`` called, by ``tracemark.app.create_app``.
"""

from admin import account as _account  # noqa: F401  (registers the account page on bp)
from admin import analytics as _analytics  # noqa: F401  (registers the analytics board on bp)
from admin import api_tokens as _api_tokens  # noqa: F401  (registers the token page on bp)
from admin import audit_export as _audit_export  # noqa: F401  (registers the export on bp)
from admin import catalog as _catalog  # noqa: F401  (registers the catalog pages on bp)
from admin import checkpoints as _checkpoints  # noqa: F401  (the checkpoint template editor)
from admin import content as _content  # noqa: F401  (stories, pictures, reports)
from admin import forgery_reports as _forgery_reports  # noqa: F401  (the reports board)
from admin import issuance as _issuance  # noqa: F401  (registers the issuance pages on bp)
from admin import keys as _keys  # noqa: F401  (registers the key pages on bp)
from admin import prefixes as _prefixes  # noqa: F401  (the brand's GS1 company prefixes)
from admin import provenance as _provenance  # noqa: F401  (registers the regulator view on bp)
from admin import quality as _quality  # noqa: F401  (registers the quality board on bp)
from admin import recording as _recording  # noqa: F401  (recording checkpoints)
from admin import resolver as _resolver  # noqa: F401  (the resolver link editor)
from admin import rules as _rules  # noqa: F401  (registers the rules pages on bp)
from admin import supply as _supply  # noqa: F401  (suppliers and material lots)
from admin import supply_chain as _supply_chain  # noqa: F401  (the supply-chain board)
from admin import trace as _trace  # noqa: F401  (trace search, traces, recall impact)
from admin.views import bp

__all__ = ["bp"]
