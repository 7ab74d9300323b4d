"""ownership: analyses belong to a key, feedback waits for review, uploads are reference-counted

Revision ID: 0006
Revises: 0005
"""

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


@contextmanager
def _keeping_feedback() -> Iterator[None]:
    """SQLite changes a constraint by copying the table and dropping the old one, and with foreign keys on (they
    cannot be turned off inside the migration's transaction) dropping `analyses` cascades to its feedback: keep
    a copy of the feedback aside and put back what the drop removed."""
    if op.get_bind().dialect.name != "sqlite":
        yield
        return
    op.execute("CREATE TEMPORARY TABLE feedback_kept AS SELECT * FROM feedback")
    yield
    op.execute("INSERT INTO feedback SELECT * FROM feedback_kept WHERE id NOT IN (SELECT id FROM feedback)")
    op.execute("DROP TABLE feedback_kept")


def upgrade() -> None:
    # analyses.owner: the key that made it ("anonymous" without one); the dedup key now includes it.
    with op.batch_alter_table("analyses", schema=None) as batch_op:
        batch_op.add_column(sa.Column("owner", sa.String(length=32), nullable=False, server_default="anonymous"))
    op.execute("UPDATE analyses SET owner = api_key_id WHERE api_key_id IS NOT NULL")
    with _keeping_feedback(), op.batch_alter_table("analyses", schema=None) as batch_op:
        batch_op.alter_column("owner", server_default=None)
        batch_op.drop_constraint("uq_analyses_sha256_versions", type_="unique")
        batch_op.create_unique_constraint("uq_analyses_sha256_versions_owner", ["sha256", "versions_key", "owner"])
        batch_op.create_index("ix_analyses_owner_created_at", ["owner", "created_at"], unique=False)

    # feedback.status: everything recorded so far was unreviewed, so it waits for review like new feedback.
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.add_column(sa.Column("status", sa.String(length=16), nullable=False, server_default="pending"))
        batch_op.add_column(sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("reviewed_by", sa.String(length=100), nullable=True))
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.alter_column("status", server_default=None)
        batch_op.create_index("ix_feedback_status_created_at", ["status", "created_at"], unique=False)

    # upload_refs: every stored analysis and every unfinished job holds the uploads it needs.
    refs = op.create_table(
        "upload_refs",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("holder", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sha256", "holder"),
    )
    with op.batch_alter_table("upload_refs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_upload_refs_holder"), ["holder"], unique=False)
    connection = op.get_bind()
    connection.execute(
        sa.text(
            "INSERT INTO upload_refs (sha256, holder, created_at) "
            "SELECT sha256, 'analysis:' || id, created_at FROM analyses"
        )
    )
    jobs = connection.execute(sa.text("SELECT id, items FROM jobs WHERE status IN ('queued', 'running')")).all()
    rows: list[dict[str, Any]] = []
    created_at = datetime.now(UTC)
    for job_id, items in jobs:
        listed = json.loads(items) if isinstance(items, str) else items
        for sha256 in sorted({item["sha256"] for item in listed or [] if "sha256" in item}):
            rows.append({"sha256": sha256, "holder": f"job:{job_id}", "created_at": created_at})
    if rows:
        op.bulk_insert(refs, rows)


def downgrade() -> None:
    with op.batch_alter_table("upload_refs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_upload_refs_holder"))
    op.drop_table("upload_refs")
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.drop_index("ix_feedback_status_created_at")
        batch_op.drop_column("reviewed_by")
        batch_op.drop_column("reviewed_at")
        batch_op.drop_column("status")
    # Several owners' records of the same bytes cannot share the old unique key: keep the oldest of each.
    op.execute(
        "DELETE FROM analyses WHERE EXISTS (SELECT 1 FROM analyses older WHERE older.sha256 = analyses.sha256 "
        "AND older.versions_key = analyses.versions_key AND (older.created_at < analyses.created_at "
        "OR (older.created_at = analyses.created_at AND older.id < analyses.id)))"
    )
    with _keeping_feedback(), op.batch_alter_table("analyses", schema=None) as batch_op:
        batch_op.drop_index("ix_analyses_owner_created_at")
        batch_op.drop_constraint("uq_analyses_sha256_versions_owner", type_="unique")
        batch_op.create_unique_constraint("uq_analyses_sha256_versions", ["sha256", "versions_key"])
        batch_op.drop_column("owner")
