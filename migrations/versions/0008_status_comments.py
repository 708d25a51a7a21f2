"""state tables: each status column's comment lists its states (a call may be ended)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 22:30:40.827876

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

# table, column, length, nullable, comment before, comment after
COMMENTS = [
    ('call', 'status', 16, False, 'ringing, taken, filed', 'ringing, taken, filed, ended: see CALL_STATES'),
    ('callback', 'answer', 32, True, None, 'see CALLBACK_ANSWERS'),
    ('callback', 'review', 32, True, None, 'see CALLBACK_REVIEWS'),
    ('extension', 'status', 32, False, None, 'pending, approved, refused: see EXTENSION_STATES'),
    ('message', 'status', 32, False, None, 'queued, sent, failed, suppressed: see MESSAGE_STATES'),
]


def _set_comments(old: int, new: int) -> None:
    # Only comments change, and SQLite keeps none: no table is rebuilt there for nothing.
    if not op.get_bind().dialect.supports_comments:
        return
    for row in COMMENTS:
        table, column, length, nullable = row[:4]
        op.alter_column(table, column, existing_type=sa.String(length), existing_nullable=nullable,
                        existing_comment=row[old], comment=row[new])


def upgrade():
    _set_comments(4, 5)


def downgrade():
    _set_comments(5, 4)
