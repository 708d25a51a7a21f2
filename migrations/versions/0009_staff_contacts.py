"""staff users: on-duty flag and last login (phone, email and active came with 0004 and 0001)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 23:15:00.000000

"""
from alembic import op
import sqlalchemy as sa
import intake.types


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('on_duty', sa.Boolean(), nullable=False, server_default=sa.true(),
                                      comment='gets the duty SMS and mail of their department or township'))
        batch_op.add_column(sa.Column('last_login_at', intake.types.UTCDateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('last_login_at')
        batch_op.drop_column('on_duty')
