"""A town's second-life storage (issue 12): the retired car packs a plan puts at its sites as stationary storage.

Three columns of ``municipalities``: energy [kWh], power [kW] and round-trip efficiency [fraction] of the packs.
Existing towns have none (0 kWh, 0 kW) at the planner's default round-trip efficiency (0.85,
``chisan.scenario.schema.SecondLife``).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 18:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "municipalities", sa.Column("second_life_kwh", sa.Float(), nullable=False, server_default=sa.text("0"))
    )
    op.add_column(
        "municipalities", sa.Column("second_life_kw", sa.Float(), nullable=False, server_default=sa.text("0"))
    )
    op.add_column(
        "municipalities",
        sa.Column(
            "second_life_round_trip_efficiency_fraction", sa.Float(), nullable=False, server_default=sa.text("0.85")
        ),
    )


def downgrade() -> None:
    # plain DROP COLUMN (SQLite ≥ 3.35, as 0003): a batch copy of the table would drop it, and with it, through
    # ON DELETE CASCADE, every town's rows
    for name in ("second_life_round_trip_efficiency_fraction", "second_life_kw", "second_life_kwh"):
        op.drop_column("municipalities", name)
