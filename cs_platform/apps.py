from django.apps import AppConfig


class CsPlatformConfig(AppConfig):
    """The composition floor: what wires the capabilities together — the nightly pipeline, workspace
    provisioning, the demo, the `recompute` and `seed_demo` commands and the home pages. It may
    import every app; no app imports it."""

    name = "cs_platform"
    label = "cs_platform"

    def ready(self):
        from . import checks  # noqa: F401  registers the deployment checks
