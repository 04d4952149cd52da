"""All models, importable from one place (and so all registered on ``Base.metadata``)."""

from tracemark.models.analytics import RollupWatermark, ScanRollup
from tracemark.models.base import Base
from tracemark.models.brand import Brand
from tracemark.models.catalog import Batch, BatchStatus, Product, Site
from tracemark.models.content import BatchStory, Document, DocumentContent, PublishState
from tracemark.models.images import Image
from tracemark.models.keys import SigningKey
from tracemark.models.labels import LabelFormat, LabelRender
from tracemark.models.scans import ScanEvent, UnitScanMark, UnitScanState
from tracemark.models.security import LoginThrottle, RecoveryCode
from tracemark.models.supply import LotStatus, MaterialLot, Supplier
from tracemark.models.tokens import ApiToken
from tracemark.models.trace import GenealogyEdge, SensorReading, TraceEvent, TraceEventObject
from tracemark.models.units import IssuanceJob, JobStatus, Unit
from tracemark.models.users import AuditLog, Membership, Role, User

__all__ = [
    "ApiToken",
    "AuditLog",
    "Base",
    "Batch",
    "BatchStatus",
    "BatchStory",
    "Brand",
    "Document",
    "DocumentContent",
    "GenealogyEdge",
    "Image",
    "IssuanceJob",
    "JobStatus",
    "LabelFormat",
    "LabelRender",
    "LoginThrottle",
    "LotStatus",
    "MaterialLot",
    "Membership",
    "Product",
    "PublishState",
    "RecoveryCode",
    "Role",
    "RollupWatermark",
    "ScanEvent",
    "ScanRollup",
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
