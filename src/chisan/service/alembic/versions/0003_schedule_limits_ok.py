"""Schedules record whether they keep every limit (``schedules.limits_ok``): only those are sent to chargers.

Existing schedules were all checked before they were stored, and sent; they count as keeping their limits.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 23:05:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("schedules", sa.Column("limits_ok", sa.Boolean(), nullable=False, server_default=sa.true()))


def downgrade() -> None:
    op.drop_column("schedules", "limits_ok")
