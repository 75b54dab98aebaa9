"""The address search: trigram matching (pg_trgm) for typo-tolerant street names.

The search's tables and indexes themselves belong to each loaded address layer and are made when
it is loaded (geodata/address_search.py); this revision only enables the extension.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03
"""

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")


def downgrade() -> None:
    op.execute("DROP EXTENSION IF EXISTS pg_trgm")
