"""All models, importable from one place (and so all registered on ``Base.metadata``)."""

from tracemark.models.base import Base
from tracemark.models.brand import Brand
from tracemark.models.catalog import Batch, BatchStatus, Product
from tracemark.models.keys import SigningKey
from tracemark.models.units import IssuanceJob, JobStatus, Unit

__all__ = [
    "Base",
    "Batch",
    "BatchStatus",
    "Brand",
    "IssuanceJob",
    "JobStatus",
    "Product",
    "SigningKey",
    "Unit",
]
