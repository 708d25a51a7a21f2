"""login_lockout: wrong passwords per username tried, and the lock they lead to

Revision ID: 0015
Revises: 0016
Create Date: 2026-12-02 01:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'login_lockout',
        sa.Column('username', sa.String(length=64), nullable=False,
                  comment='as typed (trimmed), whether or not a user has it'),
        sa.Column('failures', sa.Integer(), nullable=False,
                  comment='wrong passwords since first_failed_at'),
        sa.Column('first_failed_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True,
                  comment='no login, not even with the right password, before this'),
        sa.PrimaryKeyConstraint('username'),
    )


def downgrade():
    op.drop_table('login_lockout')
