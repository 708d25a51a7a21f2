"""sweep_run: when each periodic sweep last ran to its end (read by /readyz and /metrics)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02 02:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'sweep_run',
        sa.Column('name', sa.String(length=64), nullable=False, comment="the sweep's function name"),
        sa.Column('last_run_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('name'),
    )


def downgrade():
    op.drop_table('sweep_run')
