"""A new workspace, ready to use: the tenant row plus every capability's defaults.

Defaults are created here, once, when the workspace is created (and, for workspaces that existed
before a default was introduced, by that app's data migration), so that reading never creates
anything: a selector can run on a read replica, and a page view never writes.
"""

from django.conf import settings
from django.db import transaction
from django.utils import translation

from accounts import services as accounts
from coverage import services as coverage
from healthscore import services as healthscore
from lifecycle import services as lifecycle
from onboarding import services as onboarding
from playbooks import services as playbooks
from success import services as success
from usage import services as usage
from workspaces.models import Workspace

# Each capability's defaults, in floor order. Each is idempotent: provisioning twice adds nothing.
DEFAULTS = [accounts.ensure_defaults, usage.ensure_defaults, coverage.ensure_defaults, healthscore.ensure_defaults,
            playbooks.ensure_defaults, lifecycle.ensure_defaults, success.ensure_defaults,
            onboarding.ensure_defaults]


def provision(*, workspace):
    # Names the defaults store (a stage, a policy, the default scorecard) are written in the
    # workspace's language, whatever the language of the request that created the workspace. They
    # are plain rows: the workspace renames them freely afterwards.
    with translation.override(workspace.language or settings.LANGUAGE_CODE):
        for ensure_defaults in DEFAULTS:
            ensure_defaults(workspace=workspace)


@transaction.atomic
def create_workspace(*, name, slug, time_zone="Asia/Tokyo", currency="JPY", language=None):
    """`language` (one of settings.LANGUAGES) defaults to the deployment's, settings.LANGUAGE_CODE."""
    workspace = Workspace(name=name, slug=slug, time_zone=time_zone, currency=currency,
                          language=language or settings.LANGUAGE_CODE)
    workspace.full_clean()
    workspace.save()
    provision(workspace=workspace)
    return workspace
