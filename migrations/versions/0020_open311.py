"""Open311: the case's lat/long, the API keys and which key filed which case

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-02 06:00:00

"""
from alembic import op
import sqlalchemy as sa

import intake.types


# revision identifiers, used by Alembic.
revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('case', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lat', sa.Float(), nullable=True, comment='latitude, WGS84 (Open311 lat)'))
        batch_op.add_column(sa.Column('long', sa.Float(), nullable=True, comment='longitude, WGS84 (Open311 long)'))
    op.create_table(
        'open311_key',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('organisation', sa.String(length=200), nullable=False, comment='who the key was issued to'),
        sa.Column('key_hash', sa.String(length=64), nullable=False, comment='SHA-256 of the key, hex'),
        sa.Column('prefix', sa.String(length=16), nullable=False, comment="the key's first characters, to tell keys apart"),
        sa.Column('rate_limit', sa.String(length=64), nullable=False, comment="Flask-Limiter limit for this key's POSTs"),
        sa.Column('created_at', intake.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('revoked_at', intake.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column('revoked_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['created_by_id'], ['user.id']),
        sa.ForeignKeyConstraint(['revoked_by_id'], ['user.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('key_hash'),
    )
    op.create_table(
        'open311_request',
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('api_key_id', sa.Integer(), nullable=False),
        sa.Column('service_code', sa.String(length=64), nullable=False),
        sa.Column('token', sa.String(length=36), nullable=False),
        sa.Column('created_at', intake.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['api_key_id'], ['open311_key.id']),
        sa.ForeignKeyConstraint(['case_id'], ['case.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('case_id'),
        sa.UniqueConstraint('token'),
    )
    with op.batch_alter_table('open311_request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_open311_request_api_key_id'), ['api_key_id'], unique=False)


def downgrade():
    with op.batch_alter_table('open311_request', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_open311_request_api_key_id'))
    op.drop_table('open311_request')
    op.drop_table('open311_key')
    with op.batch_alter_table('case', schema=None) as batch_op:
        batch_op.drop_column('long')
        batch_op.drop_column('lat')
