"""sms_keyword: the words that make an inbound SMS a tip, inquiry, suggestion or emergency

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 23:45:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'sms_keyword',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('word', sa.String(length=32), nullable=False),
        sa.Column('meaning', sa.String(length=16), nullable=False,
                  comment='tip, inquiry, suggestion or emergency'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('word'),
    )


def downgrade():
    op.drop_table('sms_keyword')
