"""All models, importable from one place (and so all registered on ``Base.metadata``)."""

from tracemark.models.base import Base
from tracemark.models.brand import Brand
from tracemark.models.catalog import Batch, BatchStatus, Product, Site
from tracemark.models.content import BatchStory, Document, DocumentContent, PublishState
from tracemark.models.keys import SigningKey
from tracemark.models.scans import ScanEvent, UnitScanMark, UnitScanState
from tracemark.models.supply import LotStatus, MaterialLot, Supplier
from tracemark.models.trace import GenealogyEdge, SensorReading, TraceEvent, TraceEventObject
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
    "GenealogyEdge",
    "IssuanceJob",
    "JobStatus",
    "LotStatus",
    "MaterialLot",
    "Membership",
    "Product",
    "PublishState",
    "Role",
    "ScanEvent",
    "SensorReading",
    "SigningKey",
    "Site",
    "Supplier",
    "TraceEvent",
    "TraceEventObject",
    "Unit",
    "UnitScanMark",
    "UnitScanState",
    "User",
]
