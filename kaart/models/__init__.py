"""The schema's tables, declared once with SQLAlchemy Core on one MetaData.

Import convention: ``from kaart.models import tables as t`` and use ``t.contribution``,
``t.contribution_event``, ``t.app_user`` … (each `Table` is named exactly as its SQL table).
Constants that belong to a table (CATEGORIES, STATUSES, TITLE_MAX …) are imported from the
table's domain module, e.g. ``from kaart.models.contribution import CATEGORIES``.

The Alembic migrations make the schema; tests/test_models.py fails when these declarations and
the migrated database differ. Not declared: the per-layer tables in schema ``open_data`` (made
by the loader), PostGIS's own ``spatial_ref_sys``, and the triggers of migrations 0005, 0010
and 0016.
"""

from kaart.models import tables
from kaart.models.base import metadata
from kaart.models.contribution import CATEGORIES, GEOMETRY_TYPES, STATUSES

__all__ = ["CATEGORIES", "GEOMETRY_TYPES", "STATUSES", "metadata", "tables"]
