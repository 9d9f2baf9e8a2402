"""the pre-chat form's name, email and phone on visitors

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30 12:50:00.000000

"""

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0002"
down_revision: Union[str, Sequence[str], None] = "0001"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("visitors", schema=None) as batch_op:
        batch_op.add_column(sa.Column("name", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("email", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("phone", sa.String(length=200), nullable=True))
        batch_op.create_index(batch_op.f("ix_visitors_email"), ["email"], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("visitors", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_visitors_email"))
        batch_op.drop_column("phone")
        batch_op.drop_column("email")
        batch_op.drop_column("name")
