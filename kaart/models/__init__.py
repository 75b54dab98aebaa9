"""Tables, one module per domain noun. The schema itself is made by the Alembic migrations."""

from kaart.models.base import Base
from kaart.models.buurt import Buurt
from kaart.models.contribution import CATEGORIES, GEOMETRY_TYPES, STATUSES, Contribution
from kaart.models.layer import Layer

__all__ = ["CATEGORIES", "GEOMETRY_TYPES", "STATUSES", "Base", "Buurt", "Contribution", "Layer"]
