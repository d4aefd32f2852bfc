"""A new workspace, ready to use: the tenant row plus every capability's defaults.

Defaults are created here, once, when the workspace is created (and by a data migration for the
workspaces that existed before a default was introduced), so that reads never have to create them.
"""

from django.db import transaction

from accounts.services import ensure_default_stages
from workspaces.models import Workspace


@transaction.atomic
def create_workspace(*, name, slug, time_zone="Asia/Tokyo", currency="JPY"):
    workspace = Workspace(name=name, slug=slug, time_zone=time_zone, currency=currency)
    workspace.full_clean()
    workspace.save()
    ensure_default_stages(workspace=workspace)
    return workspace


