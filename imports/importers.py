"""Reading a sheet into rows: parse every cell, resolve what the cells name, and hand the rows to
the accounts app's writers (accounts.writes), which match, check and write them for imports exactly
as for the API and the pages.

An importer works in passes so that a 10,000-row file costs a handful of queries, not one per row:
(1) parse cells into Python values (members, stages and accounts are looked up by what the sheet
calls them: an email or a name, a stage's name, an account's external ID or name), (2) the writer
plans every row at once (matching by external ID, else by the natural key of a sheet: an account's
name, a contact's email…), and, on commit, (3) the writer writes, in the caller's transaction.
"""

from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import NON_FIELD_ERRORS
from django.utils import translation
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from accounts.models import Account, LifecycleStage
from accounts.selectors import churn_reasons
from accounts.services import default_churn_reasons
from accounts.writes import BY_EXTERNAL_ID_OR_NATURAL_KEY, WRITERS, Row, chunks
from workspaces.models import Membership

from .columns import ACCOUNTS, CONTACTS, CONTRACTS, TOUCHPOINTS, columns_for, normalise_header
from .readers import MAX_CELL_CHARS, OversizeCell
from .values import (
    CellError,
    choice_lookup,
    churn_reason_lookup,
    clean_text,
    is_blank,
    nfkc,
    parse_bool,
    parse_date,
    parse_datetime,
    parse_decimal,
    parse_int,
    parse_json,
    parse_tags,
    shown,
)

PROGRESS_EVERY = 1000


class MemberDirectory:
    """Active members of the workspace, findable by email, username or name (case-insensitive)."""

    def __init__(self, workspace):
        self.by_key = defaultdict(set)
        self.members = {}
        for member in Membership.objects.for_workspace(workspace).filter(is_active=True).select_related("user"):
            self.members[member.pk] = member
            user = member.user
            for key in (user.email, user.username, user.get_full_name(), member.display_name,
                        f"{user.last_name} {user.first_name}", f"{user.last_name}{user.first_name}"):
                if key and key.strip():
                    self.by_key[normalise_header(key)].add(member.pk)

    def find(self, text):
        found = self.by_key.get(normalise_header(text), set())
        if not found:
            raise CellError(_("“%(value)s” is not an active member of this workspace (use their email or name).")
                            % {"value": shown(text)})
        if len(found) > 1:
            raise CellError(_("“%(value)s” matches several members; use their email.") % {"value": shown(text)})
        return self.members[next(iter(found))]

    @staticmethod
    def export_value(member):
        if member is None:
            return ""
        return member.user.email or member.user.username


def cell_problem(raw):
    """Why a cell cannot be read whatever its column, or None. Neither kind may reach the database:
    PostgreSQL refuses NUL in text, and a cell longer than Excel's own limit is no one's data."""
    if isinstance(raw, OversizeCell):
        return _("This cell holds %(count)s characters; at most %(max)s are imported.") % {
            "count": number_format(raw.length, force_grouping=True),
            "max": number_format(MAX_CELL_CHARS, force_grouping=True)}
    if isinstance(raw, str) and "\x00" in raw:
        return _("This cell contains a NUL character (an invisible control character). Remove it and import "
                 "the file again.")
    return None


class BaseImporter:
    object_type = None
    required = ()  # canonical columns that must be mapped and filled

    def __init__(self, *, workspace, actor, headers, mapping):
        self.workspace = workspace
        self.actor = actor
        self.headers = headers
        self.columns = {column.name: column for column in columns_for(self.object_type)}
        self.mapping = {int(index): name for index, name in mapping.items() if name in self.columns}
        self.header_of = {name: headers[index] or name for index, name in self.mapping.items()}
        self.mapped = set(self.mapping.values())
        self.choice_lookups = {
            column.name: choice_lookup(column.name, column.choices)
            for column in self.columns.values() if column.kind == "choice"
        }
        self.members = None
        self._cache = {}
        self.errors = []
        self.error_rows = set()
        self.writer = WRITERS[self.object_type](workspace=workspace, actor=actor, match=BY_EXTERNAL_ID_OR_NATURAL_KEY)
        self.model = self.writer.model

    # --- mapping ---------------------------------------------------------------------------
    def mapping_errors(self):
        """Whole-file problems with the mapping, in plain words (nothing row-level)."""
        problems = []
        seen = {}
        for index, name in sorted(self.mapping.items()):
            if name in seen:
                problems.append(_("Columns “%(a)s” and “%(b)s” are both mapped to %(field)s.") % {
                    "a": self.headers[seen[name]], "b": self.headers[index], "field": self.columns[name].label})
            seen[name] = index
        for name in self.required:
            if name not in self.mapped:
                problems.append(_("No column is mapped to “%(field)s”, which is required.")
                                % {"field": self.columns[name].label})
        return problems

    # --- errors ----------------------------------------------------------------------------
    def column_label(self, name):
        if name in self.header_of:
            return self.header_of[name]
        if name in self.columns:
            return str(self.columns[name].label)
        try:
            return str(self.model._meta.get_field(name).verbose_name)
        except Exception:
            return name

    def add_error(self, row, name, message):
        self.errors.append({"row": row, "column": self.column_label(name) if name else "", "field": name or "",
                            "message": str(message)})
        self.error_rows.add(row)

    # --- pass 1: cells -----------------------------------------------------------------------
    def parse_cell(self, column, raw):
        kind = column.kind
        if kind in ("text", "account_name_ref"):
            return clean_text(raw)
        if kind in ("id", "account_ref"):
            # IDs, emails and domains typed with full-width characters are the same IDs.
            return nfkc(clean_text(raw))
        if kind == "decimal":
            return parse_decimal(raw)
        if kind == "int":
            return parse_int(raw)
        if kind == "date":
            return parse_date(raw)
        if kind == "datetime":
            return parse_datetime(raw, tz=self.workspace.tz)
        if kind == "bool":
            return parse_bool(raw)
        if kind == "tags":
            return parse_tags(raw)
        if kind == "json":
            return parse_json(raw)
        if kind == "choice":
            value = self.choice_lookups[column.name].get(normalise_header(clean_text(raw)))
            if value is None:
                allowed = ", ".join(str(label) for label in column.choices.labels)
                raise CellError(_("“%(value)s” is not one of: %(allowed)s.") % {"value": shown(raw),
                                                                              "allowed": allowed})
            return value
        if kind == "member":
            if self.members is None:
                self.members = MemberDirectory(self.workspace)
            return self.members.find(clean_text(raw))
        if kind == "stage":
            return self.find_stage(clean_text(raw))
        if kind == "churn_reason":
            return self.find_churn_reason(clean_text(raw))
        raise ValueError(kind)

    def blank_value(self, name):
        """What an empty cell means: the field's empty value (None, "" or its default)."""
        column = self.columns[name]
        if column.kind == "tags":
            return []
        try:
            model_field = self.model._meta.get_field(name)
        except Exception:
            return None
        if model_field.null:
            return None
        if model_field.has_default():
            return model_field.get_default()
        return "" if model_field.get_internal_type() in ("CharField", "TextField", "EmailField") else None

    # Kinds whose parsed value depends only on the cell and is never mutated: parse each distinct
    # cell once (sheets repeat the same owner, stage, dates and amounts thousands of times).
    CACHED_KINDS = {"decimal", "int", "date", "datetime", "bool", "choice", "member", "stage", "tags",
                    "churn_reason"}

    def parse_row(self, row, cells):
        values = {}
        ok = True
        for index, name in self.mapping.items():
            raw = cells[index] if index < len(cells) else None
            if is_blank(raw):
                if name in self.required:
                    self.add_error(row, name, _("A value is required."))
                    ok = False
                values[name] = self.blank_value(name)
                continue
            problem = cell_problem(raw)
            if problem:
                self.add_error(row, name, problem)
                ok = False
                continue
            column = self.columns[name]
            cache = self._cache.setdefault(name, {}) if column.kind in self.CACHED_KINDS else None
            try:
                if cache is None:
                    values[name] = self.parse_cell(column, raw)
                else:
                    key = (type(raw), raw)
                    if key not in cache:
                        try:
                            cache[key] = self.parse_cell(column, raw)
                        except CellError as exc:
                            cache[key] = exc
                    if isinstance(cache[key], CellError):
                        raise cache[key]
                    values[name] = cache[key]
            except CellError as exc:
                self.add_error(row, name, exc.message)
                ok = False
        return values if ok else None

    def find_stage(self, text):
        if not hasattr(self, "_stages"):
            self._stages = {
                normalise_header(stage.name): stage for stage in LifecycleStage.objects.for_workspace(self.workspace)
            }
        stage = self._stages.get(normalise_header(text))
        if stage is None:
            known = ", ".join(stage.name for stage in self._stages.values())
            raise CellError(_("“%(value)s” is not a lifecycle stage of this workspace (%(known)s).")
                            % {"value": shown(text), "known": known})
        return stage

    def find_churn_reason(self, text):
        """A churn reason's code from its code or name (the workspace's, or a default's in either language)."""
        if not hasattr(self, "_churn_reasons"):
            reasons = list(churn_reasons(workspace=self.workspace).values_list("code", "name"))
            defaults = []
            for language in ("en", "ja"):
                with translation.override(language):
                    defaults += [(code, name) for code, name, _d, _o in default_churn_reasons()]
            self._churn_reasons = churn_reason_lookup(reasons, defaults)
            self._churn_reason_names = [name for _code, name in reasons]
        code = self._churn_reasons.get(normalise_header(text))
        if code is None:
            raise CellError(_("“%(value)s” is not a churn reason of this workspace (%(known)s).")
                            % {"value": shown(text), "known": ", ".join(self._churn_reason_names)})
        return code

    # --- passes 2 and 3: the writer ---------------------------------------------------------------
    def run(self, sheet, *, progress=None):
        """Check every row; return the writer's plans of the valid ones. Errors collect in self.errors."""
        parsed = []
        for position, (row, cells) in enumerate(sheet.rows, start=1):
            values = self.parse_row(row, cells)
            if values is not None:
                parsed.append((row, values))
            if progress and position % PROGRESS_EVERY == 0:
                progress(position // 2)
        rows = self.rows_for_the_writer(parsed)
        plans = self.writer.plan(rows)
        for index, errors in self.writer.errors.items():
            for name, messages in errors.items():
                for message in messages:
                    self.add_error(index, None if name == NON_FIELD_ERRORS else name, message)
        if progress:
            progress(len(sheet.rows))
        return plans

    def rows_for_the_writer(self, parsed):
        return [Row(index=row, values=values) for row, values in parsed]

    def write(self, plans):
        self.writer.write(plans)


class AccountRefMixin:
    """Contacts, touchpoints and contracts name their account by external ID or by name."""

    def mapping_errors(self):
        problems = super().mapping_errors()
        if not {"account_external_id", "account"} & self.mapped:
            problems.append(_("Map a column to the account's external ID or to the account name."))
        return problems

    def prefetch_accounts(self, rows):
        accounts = Account.objects.for_workspace(self.workspace).only("id", "name", "external_id", "workspace_id",
                                                                      "owner_id")
        ext_ids = {values.get("account_external_id") for values in rows} - {None, ""}
        names = {values.get("account") for values in rows if not values.get("account_external_id")} - {None, ""}
        self.accounts_by_ext = {}
        for chunk in chunks(ext_ids):
            self.accounts_by_ext.update({a.external_id: a for a in accounts.filter(external_id__in=chunk)})
        self.accounts_by_name = defaultdict(list)
        for chunk in chunks(names):
            for account in accounts.filter(name__in=chunk):
                self.accounts_by_name[account.name].append(account)

    def resolve_account(self, row, values):
        ext = values.get("account_external_id")
        if ext:
            account = self.accounts_by_ext.get(ext)
            if account is None:
                self.add_error(row, "account_external_id",
                               _("No account with external ID “%(value)s” in this workspace.") % {"value": ext})
            return account
        name = values.get("account")
        if not name:
            self.add_error(row, "account" if "account" in self.mapped else "account_external_id",
                           _("Say which account this row belongs to (its external ID or name)."))
            return None
        found = self.accounts_by_name.get(name, [])
        if len(found) == 1:
            return found[0]
        if not found:
            self.add_error(row, "account", _("No account named “%(value)s” in this workspace.") % {"value": name})
        else:
            self.add_error(row, "account", _("Several accounts are named “%(value)s”; use the account's external "
                                             "ID instead.") % {"value": name})
        return None

    def rows_for_the_writer(self, parsed):
        self.prefetch_accounts([values for _row, values in parsed])
        rows = []
        for row, values in parsed:
            account = self.resolve_account(row, values)
            values.pop("account_external_id", None)
            values.pop("account", None)
            if account is not None and self.finish_values(row, values):
                rows.append(Row(index=row, values={**values, "account": account}))
        return rows

    def finish_values(self, row, values):
        return True


class AccountImporter(BaseImporter):
    object_type = ACCOUNTS
    required = ("name",)


class ContactImporter(AccountRefMixin, BaseImporter):
    object_type = CONTACTS
    required = ("name",)


class TouchpointImporter(AccountRefMixin, BaseImporter):
    object_type = TOUCHPOINTS
    required = ("occurred_at", "channel")


class ContractImporter(AccountRefMixin, BaseImporter):
    object_type = CONTRACTS
    required = ("product", "start_date")

    def mapping_errors(self):
        problems = super().mapping_errors()
        if not {"mrr", "arr"} & self.mapped:
            problems.append(_("Map a column to MRR or to ARR (ARR is divided by 12)."))
        return problems

    def finish_values(self, row, values):
        arr = values.pop("arr", None)
        if values.get("mrr") is None:
            if arr is None:
                self.add_error(row, "mrr" if "mrr" in self.mapped else "arr", _("MRR or ARR is required."))
                return False
            values["mrr"] = (arr / 12).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        return True


IMPORTERS = {
    ACCOUNTS: AccountImporter,
    CONTACTS: ContactImporter,
    TOUCHPOINTS: TouchpointImporter,
    CONTRACTS: ContractImporter,
}
