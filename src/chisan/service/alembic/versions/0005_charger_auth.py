"""Chargers authenticate (OCPP security profiles 1 and 2): each charger keeps the hash of its authorization key.

``chargers.auth_key_hash`` is the scrypt hash of the key (never the key itself, see chisan.service.charger_keys)
and ``chargers.auth_key_set_at`` when it was last set or rotated. Existing chargers have no key: under security
profile 1 or 2 they connect once their town has set one through ``POST /api/v1/chargers/{id}/authorization-key``.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 06:50:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import chisan.service.models

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("chargers", sa.Column("auth_key_hash", sa.String(length=200), nullable=True))
    op.add_column(
        "chargers", sa.Column("auth_key_set_at", chisan.service.models.UTCDateTime(timezone=True), nullable=True)
    )


def downgrade() -> None:
    # plain ALTER TABLE … DROP COLUMN (SQLite ≥ 3.35): a batch copy of the table would break the foreign keys
    op.drop_column("chargers", "auth_key_set_at")
    op.drop_column("chargers", "auth_key_hash")
