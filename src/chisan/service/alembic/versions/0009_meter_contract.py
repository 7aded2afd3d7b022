"""The contract kW each meter is billed on so far (stop 22): the highest 30-minute demand the schedules drew.

A peak-demand tariff (実量制, ``chisan.tariffs.schema.Contract``) bills its basic charge on the highest 30-minute
demand of the month and the 11 before. The rolling schedule carries it, as the plan's rolling dispatch carries its
contract kW from window to window: a schedule pays the basic charge only for raising it. One column on
``municipalities`` (the town's one meter, ``grid.topology = "single_meter"``) and one on ``stations`` (each
station's meter, ``"per_site"``) [kW]; existing towns start at 0 kW.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 22:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("municipalities", "stations")


def upgrade() -> None:
    for table in TABLES:
        op.add_column(table, sa.Column("contract_kw", sa.Float(), nullable=False, server_default=sa.text("0")))


def downgrade() -> None:
    # plain DROP COLUMN (SQLite ≥ 3.35, as 0008): a batch copy of the table would drop it, and with it, through
    # ON DELETE CASCADE, every town's rows
    for table in TABLES:
        op.drop_column(table, "contract_kw")
