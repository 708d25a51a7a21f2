"""case.sealed_receipt: the receipt SMS is made by a job from the case, not in the filing request

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-02 08:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('case', schema=None) as batch_op:
        batch_op.add_column(sa.Column(
            'sealed_receipt', sa.Text(), nullable=True,
            comment='the receipt SMS still to be made (template and lookup code), encrypted (notify/sealing.py); '
            'cleared by notify.tasks.send_receipt'))
        batch_op.create_index(
            'ix_case_receipt_pending', ['received_at'], unique=False,
            postgresql_where=sa.text('sealed_receipt IS NOT NULL'),
            sqlite_where=sa.text('sealed_receipt IS NOT NULL'))


def downgrade():
    with op.batch_alter_table('case', schema=None) as batch_op:
        batch_op.drop_index('ix_case_receipt_pending',
                            postgresql_where=sa.text('sealed_receipt IS NOT NULL'),
                            sqlite_where=sa.text('sealed_receipt IS NOT NULL'))
        batch_op.drop_column('sealed_receipt')
