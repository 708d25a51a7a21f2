"""staff_session: one row per signed-in staff browser; logout and a password change delete them

Revision ID: 0013
Revises: 0014
Create Date: 2026-12-02 01:00:00

"""
from alembic import op
import sqlalchemy as sa
import intake.types


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'staff_session',
        sa.Column('id', sa.String(length=64), nullable=False, comment="SHA-256 (hex) of the cookie's token"),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('created_at', intake.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('last_seen_at', intake.types.UTCDateTime(timezone=True), nullable=False,
                  comment='updated at most once a minute; idle past SESSION_IDLE_MINUTES ends it'),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('staff_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staff_session_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('staff_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staff_session_user_id'))
    op.drop_table('staff_session')
