from django.apps import AppConfig


class CsPlatformConfig(AppConfig):
    """The composition floor: what wires the capabilities together — the nightly pipeline, workspace
    provisioning, the demo, the `recompute` and `seed_demo` commands and the home pages. It may
    import every app; no app imports it."""

    name = "cs_platform"
    label = "cs_platform"

    def ready(self):
        from coverage.selectors import recorded_tiers
        from healthscore.selectors import bands_seen_on
        from onboarding.signals import handoff_completed
        from playbooks.engine import on_handoff_completed
        from segments.past import register_past_values
        from usage.selectors import active_users_on

        from . import checks  # noqa: F401  registers the deployment checks

        # A completed handoff is an event trigger of playbooks ("handoff received"): onboarding
        # announces it, the playbooks engine evaluates those accounts at once. Neither app knows the other.
        handoff_completed.connect(on_handoff_completed, dispatch_uid="playbooks.handoff_completed")

        # A past day's segment rules read the values of that day; those that the capabilities above
        # segments record reach it through these providers (segments never imports them): active
        # users in the 30 days up to the day (no events: 0), the tier recorded on or before the day,
        # the health band of the latest snapshot before the day (what that night's segments saw).
        register_past_values("active_users", active_users_on, absent=0)
        register_past_values("touch_tier", recorded_tiers)
        register_past_values("health_band", bands_seen_on)
