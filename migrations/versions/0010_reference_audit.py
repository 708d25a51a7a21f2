"""reference_change: every change to reference data, who, when, before and after

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 23:15:00

"""
from alembic import op
import sqlalchemy as sa
import intake.types


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'reference_change',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('at', intake.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True, comment='null: a command (命令行)'),
        sa.Column('table', sa.String(length=32), nullable=False,
                  comment='department, routing_rule, industry_term, division'),
        sa.Column('key', sa.String(length=128), nullable=False, comment="the row's natural key, parts joined by |"),
        sa.Column('before', sa.JSON(), nullable=True, comment='null: the row was added'),
        sa.Column('after', sa.JSON(), nullable=True, comment='null: the row was deleted'),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], ),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('reference_change', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reference_change_at'), ['at'], unique=False)
        batch_op.create_index('ix_reference_change_table_key', ['table', 'key'], unique=False)


def downgrade():
    with op.batch_alter_table('reference_change', schema=None) as batch_op:
        batch_op.drop_index('ix_reference_change_table_key')
        batch_op.drop_index(batch_op.f('ix_reference_change_at'))
    op.drop_table('reference_change')
