"""What of the usage capability travels in a workspace archive.

Everything the reports read travels: the raw events still kept (retention decides how far back; a
health score of a past day that has no stored snapshot is recomputed from them), the daily
rollups, product users, the ingestion settings, the messages set aside and the stale-rollup marks
(so that the next rollup still refreshes those days), and the ids of the identify/group/alias
messages already applied (so that an SDK retry is still recognised).

Write keys travel as records only, revoked: the archive holds no key hash, and a key must not
work in two deployments at once. After a restore an admin creates new keys for the SDKs.
"""

from workspaces.portability import retire_credential
from workspaces.transfer import Part, Table

from . import services
from .models import (
    DailyAccountUsage,
    DirtyUsageDay,
    IngestSettings,
    ProcessedMessage,
    ProductUser,
    RejectedMessage,
    UsageEvent,
    WriteKey,
)

PART = Part("usage", [
    Table(IngestSettings),
    Table(WriteKey, exclude=["key_hash"], into=retire_credential),
    Table(ProductUser, keep_ids=False),
    Table(UsageEvent, keep_ids=False),
    Table(DailyAccountUsage, keep_ids=False),
    Table(RejectedMessage, keep_ids=False),
    Table(ProcessedMessage, keep_ids=False),
    Table(DirtyUsageDay, keep_ids=False),
], defaults=services.ensure_defaults)
