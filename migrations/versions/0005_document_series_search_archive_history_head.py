"""document series lock rows; search, archive month and history anchor on documents

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('document_series',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('seller_inn', sa.String(length=12), nullable=False),
    sa.Column('buyer_inn', sa.String(length=12), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_document_series')),
    sa.UniqueConstraint('kind', 'seller_inn', 'buyer_inn', name='uq_document_series_parties')
    )
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('search_text', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('archive_month', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('history_head', sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f('ix_documents_archive_month'), ['archive_month'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_documents_archive_month'))
        batch_op.drop_column('history_head')
        batch_op.drop_column('archive_month')
        batch_op.drop_column('search_text')
    op.drop_table('document_series')
