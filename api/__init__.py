"""The integration API for a brand's own systems (ERP, MES): token-authenticated JSON
under ``/api/v1/brands/<slug>/``, described by ``api/openapi.yaml``.

``bp`` is registered by ``tracemark.app.create_app``; views only parse requests, call
the core (capture, catalog, issuance, analytics, genealogy, recall) and answer JSON.
"""

from api import events as _events  # noqa: F401  (registers capture and queries on bp)
from api import links as _links  # noqa: F401  (resolver links)
from api import production as _production  # noqa: F401  (batches, issuance, jobs)
from api import reports as _reports  # noqa: F401  (scan statistics, traces)
from api import subscriptions as _subscriptions  # noqa: F401  (named queries, subscribe)
from api.access import bp

__all__ = ["bp"]
