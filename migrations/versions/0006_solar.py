"""Rooftop solar potential per BAG pand, with the version of the inputs it was computed from.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE solar_potential (
          bag_id text PRIMARY KEY,
          building_layer text NOT NULL,
          inputs_hash text NOT NULL,
          method text NOT NULL CHECK (method IN ('roof_parts', 'footprint', 'none')),
          skipped_reason text CHECK (skipped_reason IN
            ('invalid_footprint', 'too_small', 'no_usable_roof')),
          roof_area_m2 double precision NOT NULL DEFAULT 0 CHECK (roof_area_m2 >= 0),
          usable_area_m2 double precision NOT NULL DEFAULT 0 CHECK (usable_area_m2 >= 0),
          panels integer NOT NULL DEFAULT 0 CHECK (panels >= 0),
          kwp double precision NOT NULL DEFAULT 0 CHECK (kwp >= 0),
          kwh_year double precision NOT NULL DEFAULT 0 CHECK (kwh_year >= 0),
          kwh_per_kwp double precision,
          suitability text NOT NULL
            CHECK (suitability IN ('excellent', 'good', 'fair', 'poor', 'none')),
          co2_kg_year double precision NOT NULL DEFAULT 0,
          households double precision NOT NULL DEFAULT 0,
          construction_year integer,
          usage text,
          roof_parts jsonb NOT NULL DEFAULT '[]'::jsonb,
          computed_at timestamptz NOT NULL DEFAULT now(),
          CHECK ((skipped_reason IS NULL) = (panels > 0))
        )
        """
    )
    op.execute("CREATE INDEX ix_solar_potential_layer ON solar_potential (building_layer)")


def downgrade() -> None:
    op.execute("DROP TABLE solar_potential")
