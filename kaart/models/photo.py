"""Photos on contributions: re-encoded images on disk, one row each here."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Column, ForeignKey, Index, Integer, Table, Text

from kaart.models.base import UUID, metadata, one_of, stamp, uuid_pk

MEDIA_TYPES = ("image/jpeg", "image/png", "image/webp")

photo = Table(
    "photo",
    metadata,
    uuid_pk(),
    Column(
        "contribution_id",
        UUID,
        ForeignKey("contribution.id", ondelete="CASCADE"),
        nullable=False,
    ),
    # What we wrote (after re-encoding), never what the uploader claimed.
    Column("media_type", Text, nullable=False),
    Column("width", Integer, nullable=False),
    Column("height", Integer, nullable=False),
    Column("bytes", Integer, nullable=False),
    Column("thumb_width", Integer, nullable=False),
    Column("thumb_height", Integer, nullable=False),
    stamp(),
    CheckConstraint(f"media_type IN ({one_of(MEDIA_TYPES)})", name="media_type"),
    CheckConstraint(
        "width > 0 AND height > 0 AND thumb_width > 0 AND thumb_height > 0 AND bytes > 0",
        name="sizes",
    ),
)
Index("ix_photo_contribution", photo.c.contribution_id, photo.c.created_at)
