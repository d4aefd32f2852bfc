"""The workspace archive's format: a zip file holding

    manifest.json                      format name and version, the workspace's settings, and per
                                       table its file, row count and SHA-256; per file the same
    <part>/<app_label.model>.jsonl     one JSON object per line and row, by the source's id order
    files/...                          files that travel with rows (an import job's upload)

The manifest is written last, once every count and checksum is known. Reading checks the format
and version first, then every member against the manifest, before anything is written.
"""

import hashlib
import json
import os
import zipfile

from django.utils.translation import gettext as _

from workspaces.transfer import encode

FORMAT = "cs-platform-workspace"
# Bump when an archive of this version can no longer be read as one of the previous version
# (a table's meaning or a column's encoding changes). Adding a table or a column with a default
# does not need a bump: an older archive simply lacks it.
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
BUFFER = 1 << 16


class ArchiveError(Exception):
    """The archive is not one this deployment can import; the message says why."""


def table_member(part_name, table_name):
    return f"{part_name}/{table_name}.jsonl"


class ArchiveWriter:
    """Writes members one at a time (streamed: a table never sits in memory) and the manifest last."""

    def __init__(self, path):
        self.path = path
        self.partial = f"{path}.partial"
        self.zip = zipfile.ZipFile(self.partial, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True)
        self.tables, self.files = {}, []

    def write_table(self, part_name, table_name, rows):
        """Write the dicts of `rows` as JSON Lines; returns the number of rows."""
        member = table_member(part_name, table_name)
        digest, count, buffer = hashlib.sha256(), 0, []
        with self.zip.open(member, "w", force_zip64=True) as out:
            size = 0
            for row in rows:
                line = (json.dumps(row, default=encode, ensure_ascii=False, separators=(",", ":")) + "\n").encode()
                buffer.append(line)
                size += len(line)
                count += 1
                if size >= BUFFER:
                    size = self._flush(out, buffer, digest)
            self._flush(out, buffer, digest)
        self.tables.setdefault(part_name, []).append(
            {"name": table_name, "file": member, "rows": count, "sha256": digest.hexdigest()})
        return count

    @staticmethod
    def _flush(out, buffer, digest):
        data = b"".join(buffer)
        digest.update(data)
        out.write(data)
        buffer.clear()
        return 0

    def write_file(self, name, handle):
        digest, size = hashlib.sha256(), 0
        with self.zip.open(name, "w", force_zip64=True) as out:
            while chunk := handle.read(BUFFER):
                digest.update(chunk)
                out.write(chunk)
                size += len(chunk)
        self.files.append({"name": name, "bytes": size, "sha256": digest.hexdigest()})

    def finish(self, *, parts, workspace, created_at, source_slug):
        manifest = {
            "format": FORMAT, "format_version": FORMAT_VERSION, "created_at": created_at,
            "source_slug": source_slug, "workspace": workspace,
            "parts": [{"name": name, "tables": self.tables.get(name, [])} for name in parts],
            "files": self.files,
        }
        self.zip.writestr(MANIFEST, json.dumps(manifest, default=encode, ensure_ascii=False, indent=1))
        self.zip.close()
        os.replace(self.partial, self.path)  # a half-written archive never has the final name
        return manifest

    def abort(self):
        self.zip.close()
        if os.path.exists(self.partial):
            os.remove(self.partial)


class ArchiveReader:
    """An archive opened for import: `manifest`, `verify()`, then `rows(...)` and `open_file(...)`."""

    def __init__(self, path):
        try:
            self.zip = zipfile.ZipFile(path)
        except FileNotFoundError:
            raise ArchiveError(_("No such file: %(path)s.") % {"path": path}) from None
        except (zipfile.BadZipFile, OSError):
            raise ArchiveError(_("%(path)s is not a workspace archive (not a zip file).") % {"path": path}) from None
        self.manifest = self._read_manifest()

    def close(self):
        self.zip.close()

    def _read_manifest(self):
        try:
            manifest = json.loads(self.zip.read(MANIFEST))
        except KeyError:
            raise ArchiveError(_("This is not a workspace archive: it has no manifest.json.")) from None
        except (ValueError, zipfile.BadZipFile):
            raise ArchiveError(_("The archive's manifest.json is damaged.")) from None
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            raise ArchiveError(_("This is not a workspace archive of this platform."))
        version = manifest.get("format_version")
        if version != FORMAT_VERSION:
            if isinstance(version, int) and not isinstance(version, bool) and version > FORMAT_VERSION:
                raise ArchiveError(
                    _("This archive has format version %(version)s, made by a newer version of the platform; "
                      "this deployment reads format version %(supported)s. Upgrade this deployment, then import it.")
                    % {"version": version, "supported": FORMAT_VERSION})
            raise ArchiveError(_("Unknown archive format version %(version)r; this deployment reads format version "
                                 "%(supported)s.") % {"version": version, "supported": FORMAT_VERSION})
        if not _well_formed(manifest):
            raise ArchiveError(_("The archive's manifest.json is damaged."))
        return manifest

    def tables(self):
        """[(part name, table entry)] in the manifest's order."""
        return [(part["name"], table) for part in self.manifest["parts"] for table in part["tables"]]

    def verify(self):
        """Every member is listed, present, of the listed row count and checksum. Streams; writes nothing."""
        listed = {MANIFEST} | {t["file"] for _, t in self.tables()} | {f["name"] for f in self.manifest["files"]}
        present = set(self.zip.namelist())
        if unlisted := sorted(present - listed):
            raise ArchiveError(_("The archive holds a file its manifest does not list: %(name)s.")
                               % {"name": unlisted[0]})
        if missing := sorted(listed - present):
            raise ArchiveError(_("The archive lacks %(name)s, which its manifest lists.") % {"name": missing[0]})
        for _part, table in self.tables():
            digest, lines = self._digest(table["file"], count_lines=True)
            self._check(table["file"], digest, table["sha256"])
            if lines != table["rows"]:
                raise ArchiveError(_("%(name)s holds %(found)s rows; the manifest says %(rows)s.")
                                   % {"name": table["file"], "found": lines, "rows": table["rows"]})
        for entry in self.manifest["files"]:
            digest, _lines = self._digest(entry["name"])
            self._check(entry["name"], digest, entry["sha256"])

    def _digest(self, name, count_lines=False):
        digest, lines = hashlib.sha256(), 0
        try:
            with self.zip.open(name) as handle:
                while chunk := handle.read(BUFFER):
                    digest.update(chunk)
                    if count_lines:
                        lines += chunk.count(b"\n")
        except (zipfile.BadZipFile, OSError, EOFError):
            raise ArchiveError(_("%(name)s in the archive is damaged.") % {"name": name}) from None
        return digest.hexdigest(), lines

    @staticmethod
    def _check(name, digest, expected):
        if digest != expected:
            raise ArchiveError(_("%(name)s does not match its checksum in the manifest: the archive was changed "
                                 "or damaged after it was made.") % {"name": name})

    def rows(self, table_entry):
        """The table's rows, one dict at a time."""
        with self.zip.open(table_entry["file"]) as handle:
            for number, line in enumerate(handle, start=1):
                try:
                    row = json.loads(line)
                except ValueError:
                    row = None
                if not isinstance(row, dict):
                    raise ArchiveError(_("%(name)s line %(n)s is not a JSON object.")
                                       % {"name": table_entry["file"], "n": number})
                yield row

    def open_file(self, name):
        """A file that travels with the rows, opened for reading; None when the archive has none."""
        if name not in {f["name"] for f in self.manifest["files"]}:
            return None
        return self.zip.open(name)


def _well_formed(manifest):
    """The manifest has every key the reader uses, of the right type."""
    def entries(items, **types):
        return isinstance(items, list) and all(
            isinstance(item, dict) and all(isinstance(item.get(key), kind) for key, kind in types.items())
            for item in items)

    parts = manifest.get("parts")
    return (isinstance(manifest.get("workspace"), dict)
            and entries(parts, name=str, tables=list)
            and all(entries(part["tables"], name=str, file=str, rows=int, sha256=str) for part in parts)
            and entries(manifest.get("files"), name=str, bytes=int, sha256=str))
