"""An index on the entitlements' organisation, for the offer round's entitlement read.

Every offer round reads the § 51 b entitlements its candidates hold with the dwelling's
organisation. It sent the ~2,000 candidates' ids as an array (`applicant_id = ANY(...)`: the
array built as text in Python and parsed by PostgreSQL every round); the round now reads the
organisation's entitlements (`org_id = ...`, a handful: only applicants rejected under
kombineret udlejning who were registered before it hold one) and keeps those of its candidates
in Python. The unique (applicant_id, org_id) index does not serve a read by organisation, so
without this index that read scans the table.

Revision ID: 0019
Revises: 0018
"""

from __future__ import annotations

from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_entitlements_org_id', 'entitlements', ['org_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_entitlements_org_id', table_name='entitlements')
