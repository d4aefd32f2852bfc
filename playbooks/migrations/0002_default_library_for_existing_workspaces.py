"""Every workspace now gets the default playbook library when it is created (provisioning); this
creates it, in each workspace's language, for the workspaces that existed before. Idempotent like
playbooks.services.ensure_defaults: a library playbook already there, or a taken name, is skipped."""

from django.conf import settings
from django.db import migrations
from django.utils import translation

from playbooks.definition import validate_definition
from playbooks.library import library


def create_library(apps, schema_editor):
    Workspace = apps.get_model("workspaces", "Workspace")
    Playbook = apps.get_model("playbooks", "Playbook")
    PlaybookVersion = apps.get_model("playbooks", "PlaybookVersion")
    for workspace in Workspace.objects.all():
        existing = Playbook.all_workspaces.filter(workspace=workspace)
        keys = set(existing.exclude(library_key="").values_list("library_key", flat=True))
        names = set(existing.values_list("name", flat=True))
        with translation.override(workspace.language or settings.LANGUAGE_CODE):
            entries = library()
            notes = translation.gettext("Default library")
        for entry in entries:
            if entry["library_key"] in keys or entry["name"] in names:
                continue
            definition = validate_definition(entry["definition"])
            playbook = Playbook.all_workspaces.create(
                workspace=workspace, name=entry["name"], description=entry["description"],
                enabled=entry["enabled"], trigger_kind=definition["trigger"]["kind"],
                library_key=entry["library_key"])
            PlaybookVersion.all_workspaces.create(workspace=workspace, playbook=playbook, number=1,
                                                  definition=definition, note=notes)


class Migration(migrations.Migration):

    dependencies = [
        ("playbooks", "0001_initial"),
        ("workspaces", "0008_workspace_language_and_user_preference"),
    ]

    operations = [migrations.RunPython(create_library, migrations.RunPython.noop)]
