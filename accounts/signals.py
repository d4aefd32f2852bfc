"""What the accounts app announces, for the apps built on it to react to.

A lower floor never calls up. When something built on accounts must change with an account (the
coverage rollups when an account is deleted), the accounts service sends a signal from inside its
transaction, and the higher app connects its own service in its AppConfig.ready(). The receiver is
a one-line call; the work is in that app's service, where a reader looks for it.
"""

from django.dispatch import Signal

# Sent by accounts.services.delete_account, in its transaction, before the account row goes
# (its rows elsewhere are still there to read). Arguments: account.
account_deleting = Signal()

# Sent by the touchpoint writer (every page, API and import write of touchpoints) and by
# accounts.services.delete_touchpoint, in the writing transaction, after the rows are written or
# deleted. Arguments: workspace, account_ids (the accounts whose touches changed,
# an edit that moves a touch names both accounts).
touchpoints_changed = Signal()

# Sent by the account writer (every page, API and import write of accounts), in the writing
# transaction, after the rows are written. Arguments: workspace, account_ids.
# account_created: the accounts just created. stage_changed: existing accounts whose lifecycle stage
# just changed (their StageChange rows are written).
account_created = Signal()
stage_changed = Signal()

# Sent by the contact writer, in the writing transaction, when contacts were marked as having left
# (their `left_on` set). Arguments: workspace, account_ids, contact_ids.
contact_left = Signal()

# Sent by the account writer while it validates a batch (before anything is written), for the
# existing accounts whose row moves them out of the first lifecycle stage (the lowest position).
# Arguments: workspace, account_ids. A receiver returns {account_id: message} of the moves it
# refuses; the writer makes each message that row's error on its `stage` field (page form, API
# 400, import row error). Receivers only read.
stage_move_checks = Signal()
