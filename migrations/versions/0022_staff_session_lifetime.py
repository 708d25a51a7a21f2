"""staff_session.created_at: a session older than SESSION_MAX_HOURS ends however busy it is

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-02 12:45:00

"""
from alembic import op

import intake.types

# revision identifiers, used by Alembic.
revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None

COMMENT = 'signed in; older than SESSION_MAX_HOURS ends it'


def upgrade():
    with op.batch_alter_table('staff_session', schema=None) as batch_op:
        batch_op.alter_column('created_at', existing_type=intake.types.UTCDateTime(timezone=True),
                              existing_nullable=False, comment=COMMENT)


def downgrade():
    with op.batch_alter_table('staff_session', schema=None) as batch_op:
        batch_op.alter_column('created_at', existing_type=intake.types.UTCDateTime(timezone=True),
                              existing_nullable=False, comment=None, existing_comment=COMMENT)
