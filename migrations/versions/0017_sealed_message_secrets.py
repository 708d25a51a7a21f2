"""message.sealed_secret: a queued message's lookup code, encrypted, so a lost job can be re-created

Revision ID: 0017
Revises: 0013
Create Date: 2026-12-02 02:15:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0017'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.add_column(sa.Column(
            'sealed_secret', sa.Text(), nullable=True,
            comment='the masked values (a lookup code), encrypted (notify/sealing.py); cleared once sent',
        ))


def downgrade():
    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.drop_column('sealed_secret')
