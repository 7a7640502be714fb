"""A lookup key for the patient's phone on ``handouts``, for inbound text messages (STOP).

The phone is stored as the nurse typed it ("(555) 123-4567"); an SMS gateway reports it in
full international form ("+15551234567"). ``phone_key`` (``model.contact.phone_key``: a hash
of the last nine digits) is indexed so a reply finds its handouts without reading every row.
Existing handouts get their key here, computed in Python: SQL has no portable digit filter.

Revision ID: 0013_phone_key
Revises: 0009_rendered
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from caresheet.model.contact import phone_key

revision = "0013_phone_key"
down_revision: str | None = "0009_rendered"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("handouts") as batch:
        batch.add_column(sa.Column("phone_key", sa.String(64), nullable=True))
        batch.create_index("ix_handouts_phone_key", ["phone_key"])
    connection = op.get_bind()
    phones = connection.execute(
        sa.text("SELECT id, phone FROM handouts WHERE phone IS NOT NULL")).all()
    for handout_id, phone in phones:
        connection.execute(
            sa.text("UPDATE handouts SET phone_key = :key WHERE id = :id"),
            {"key": phone_key(phone), "id": handout_id},
        )


def downgrade() -> None:
    with op.batch_alter_table("handouts") as batch:
        batch.drop_index("ix_handouts_phone_key")
        batch.drop_column("phone_key")
