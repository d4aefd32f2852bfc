"""Backups and portability of one workspace: `manage.py export_workspace` / `import_workspace`.

The archive's format is here (archive.py); which tables travel, and how their references are
renamed, is each app's to say (its portability.py, listed in parts.py); the machinery they share
is workspaces.transfer. See docs/portability.md.
"""
