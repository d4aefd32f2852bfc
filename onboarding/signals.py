"""What onboarding announces. Sent by services.save_handoffs in the writing transaction when
handoffs become complete. Arguments: workspace, account_ids. The composition floor connects the
playbooks engine to it (the "handoff received" trigger enrols at once)."""

from django.dispatch import Signal

handoff_completed = Signal()
