"""Writes of the usage app, one module per concern:

- keys: write keys (create, revoke, rotate; authenticate the tracking API's requests);
- settings: the workspace's ingestion settings;
- batches: storing a tracking-API batch (events, identities, groups, aliases, set-aside messages);
- rollups: daily rollups, retention of raw events, the accounts' 30-day active users.
"""

from .batches import attach_unmatched_events, ingest_batch, insert_events, rollup_pending_key, schedule_rollup
from .keys import authenticate_write_key, create_write_key, note_key_used, revoke_write_key, rotate_write_key
from .rollups import enforce_retention, refresh_active_users, rollup_days, rollup_dirty_days
from .settings import ensure_defaults, parse_trait_mapping, update_ingest_settings

__all__ = [
    "attach_unmatched_events", "authenticate_write_key", "create_write_key", "enforce_retention", "ensure_defaults",
    "ingest_batch", "insert_events", "note_key_used", "parse_trait_mapping", "refresh_active_users",
    "revoke_write_key", "rollup_days", "rollup_dirty_days", "rollup_pending_key", "rotate_write_key",
    "schedule_rollup", "update_ingest_settings",
]
