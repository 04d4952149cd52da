"""All models, importable from one place (and so all registered on ``Base.metadata``)."""

from tracemark.models.analytics import RollupWatermark, ScanRollup
from tracemark.models.base import Base
from tracemark.models.boards import DefectDay, InspectionFirst, ObjectPlace, SensorExcursion
from tracemark.models.brand import Brand, BrandPrefix
from tracemark.models.catalog import Batch, BatchStatus, Product, Site
from tracemark.models.checkpoints import CheckpointFile, CheckpointTemplate
from tracemark.models.content import BatchStory, Document, DocumentContent, PublishState
from tracemark.models.images import Image
from tracemark.models.keys import KeyRequest, KeyRequestStatus, SigningKey
from tracemark.models.labels import LabelFormat, LabelRender
from tracemark.models.reports import ForgeryReport
from tracemark.models.resolver import Audience, ResolverLink
from tracemark.models.rules import (
    MessageKind,
    MessageStatus,
    Operator,
    OutboxMessage,
    Rule,
    RuleFiring,
)
from tracemark.models.scans import PinAttempts, ScanEvent, UnitScanMark, UnitScanState
from tracemark.models.security import LoginThrottle, RecoveryCode
from tracemark.models.subscriptions import QuerySubscription, SavedQuery
from tracemark.models.supply import LotStatus, MaterialLot, Supplier
from tracemark.models.tokens import ApiToken
from tracemark.models.trace import GenealogyEdge, SensorReading, TraceEvent, TraceEventObject
from tracemark.models.units import IssuanceJob, JobStatus, Unit
from tracemark.models.users import AuditLog, Membership, Role, User

__all__ = [
    "ApiToken",
    "Audience",
    "AuditLog",
    "Base",
    "Batch",
    "BatchStatus",
    "BatchStory",
    "Brand",
    "BrandPrefix",
    "CheckpointFile",
    "CheckpointTemplate",
    "DefectDay",
    "Document",
    "DocumentContent",
    "ForgeryReport",
    "GenealogyEdge",
    "Image",
    "InspectionFirst",
    "IssuanceJob",
    "JobStatus",
    "KeyRequest",
    "KeyRequestStatus",
    "LabelFormat",
    "LabelRender",
    "LoginThrottle",
    "LotStatus",
    "MaterialLot",
    "Membership",
    "MessageKind",
    "MessageStatus",
    "ObjectPlace",
    "Operator",
    "OutboxMessage",
    "PinAttempts",
    "Product",
    "PublishState",
    "QuerySubscription",
    "RecoveryCode",
    "ResolverLink",
    "Role",
    "RollupWatermark",
    "Rule",
    "RuleFiring",
    "SavedQuery",
    "ScanEvent",
    "ScanRollup",
    "SensorExcursion",
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
