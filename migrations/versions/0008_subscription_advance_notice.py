"""subscription advance notice: how many days before each issue day the initiator is told

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-21 23:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('subscriptions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('notice_days', sa.Integer(), server_default='3', nullable=False))
        batch_op.create_check_constraint(op.f('ck_subscriptions_notice_days_range'), 'notice_days BETWEEN 0 AND 14')


def downgrade() -> None:
    with op.batch_alter_table('subscriptions', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_subscriptions_notice_days_range'), type_='check')
        batch_op.drop_column('notice_days')
