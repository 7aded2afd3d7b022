"""OCPP 2.0.1: charging stations name their transactions (``charging_sessions.transaction_ref``, unique per charger).

Plain ``ADD COLUMN`` and ``CREATE UNIQUE INDEX``, which SQLite and PostgreSQL both run in place (no table copy,
so rows that refer to the sessions are left alone).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 22:55:48.895430
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("charging_sessions", sa.Column("transaction_ref", sa.String(length=36), nullable=True))
    op.create_index(
        "ix_charging_sessions_charger_id_transaction_ref",
        "charging_sessions",
        ["charger_id", "transaction_ref"],
        unique=True,
    )


def downgrade() -> None:
    op.drop_index("ix_charging_sessions_charger_id_transaction_ref", table_name="charging_sessions")
    op.drop_column("charging_sessions", "transaction_ref")
