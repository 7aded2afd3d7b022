"""Disaster mode of a town (issue 12): shelters, the cars called to them, and whether the mode is on.

One row per town; switching the mode off keeps the row (``active`` false, ``ended_at`` set).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 07:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import chisan.service.models

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "disaster_modes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("municipality_id", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("started_at", chisan.service.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", chisan.service.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("shelters", sa.JSON(), nullable=False),
        sa.Column("called_station_ids", sa.JSON(), nullable=False),
        sa.Column("called_vehicle_ids", sa.JSON(), nullable=False),
        sa.Column("v2h_kw_per_car", sa.Float(), nullable=False),
        sa.Column("v2h_efficiency_fraction", sa.Float(), nullable=False),
        sa.Column("reserve_soc_fraction", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["municipality_id"],
            ["municipalities.id"],
            name=op.f("fk_disaster_modes_municipality_id_municipalities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disaster_modes")),
        sa.UniqueConstraint("municipality_id", name=op.f("uq_disaster_modes_municipality_id")),
    )


def downgrade() -> None:
    op.drop_table("disaster_modes")
