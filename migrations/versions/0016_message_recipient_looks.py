"""personal_data_access: a look at a message's recipient is logged too (case_id optional, message_id)

Revision ID: 0016
Revises: 0011
Create Date: 2026-12-02 01:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('personal_data_access', schema=None) as batch_op:
        batch_op.alter_column('case_id', existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column('message_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_personal_data_access_message_id_message'), 'message', ['message_id'], ['id'],
            ondelete='CASCADE',
        )


def downgrade():
    with op.batch_alter_table('personal_data_access', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_personal_data_access_message_id_message'), type_='foreignkey')
        batch_op.drop_column('message_id')
    op.execute("DELETE FROM personal_data_access WHERE case_id IS NULL")
    with op.batch_alter_table('personal_data_access', schema=None) as batch_op:
        batch_op.alter_column('case_id', existing_type=sa.Integer(), nullable=False)
