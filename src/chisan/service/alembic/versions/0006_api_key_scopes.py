"""Town keys get scopes (``read``, ``operate``, ``town_admin``), an optional expiry and the time of their last use.

Keys made before scopes existed could do everything; they keep doing so (all three scopes), so no client breaks.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 07:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import chisan.service.models

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ALL_SCOPES = "read operate town_admin"
"""The scopes of every existing key (a copy: a migration must not change when the models do)."""


def upgrade() -> None:
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.add_column(sa.Column("scopes", sa.String(length=100), nullable=False, server_default=ALL_SCOPES))
        batch_op.add_column(sa.Column("expires_at", chisan.service.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("last_used_at", chisan.service.models.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_column("last_used_at")
        batch_op.drop_column("expires_at")
        batch_op.drop_column("scopes")
