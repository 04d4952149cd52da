"""All models, importable from one place (and so all registered on ``Base.metadata``)."""

from tracemark.models.analytics import RollupWatermark, ScanRollup
from tracemark.models.base import Base
from tracemark.models.brand import Brand
from tracemark.models.catalog import Batch, BatchStatus, Product, Site
from tracemark.models.content import BatchStory, Document, DocumentContent, PublishState
from tracemark.models.keys import SigningKey
from tracemark.models.scans import ScanEvent, UnitScanMark, UnitScanState
from tracemark.models.trace import TraceEvent
from tracemark.models.units import IssuanceJob, JobStatus, Unit
from tracemark.models.users import AuditLog, Membership, Role, User

__all__ = [
    "AuditLog",
    "Base",
    "Batch",
    "BatchStatus",
    "BatchStory",
    "Brand",
    "Document",
    "DocumentContent",
    "IssuanceJob",
    "JobStatus",
    "Membership",
    "Product",
    "PublishState",
    "Role",
    "RollupWatermark",
    "ScanEvent",
    "ScanRollup",
    "SigningKey",
    "Site",
    "TraceEvent",
    "Unit",
    "UnitScanMark",
    "UnitScanState",
    "User",
]
