from django.apps import AppConfig


class CsPlatformConfig(AppConfig):
    """The composition floor: what wires the capabilities together — the nightly pipeline, workspace
    provisioning, the demo, the `recompute` and `seed_demo` commands and the home pages. It may
    import every app; no app imports it."""

    name = "cs_platform"
    label = "cs_platform"

    def ready(self):
        # A completed handoff is an event trigger of playbooks ("handoff received"): onboarding
        # announces it, the playbooks engine evaluates those accounts at once. Neither app knows the other.
        from onboarding.signals import handoff_completed
        from playbooks.engine import on_handoff_completed

        from . import checks  # noqa: F401  registers the deployment checks

        handoff_completed.connect(on_handoff_completed, dispatch_uid="playbooks.handoff_completed")
