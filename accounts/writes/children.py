"""The writers of what hangs off an account: contacts, contracts and touchpoints."""

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from workspaces.policy import acting_member

from .. import line_history
from ..models import Contact, Contract, Touchpoint
from ..signals import contact_left, touchpoints_changed
from .base import BY_EXTERNAL_ID_OR_NATURAL_KEY, Plan, RecordWriter
from .sql import chunks, insert_pairs


class AccountChildWriter(RecordWriter):
    """Contacts, contracts and touchpoints: each row names its account (an instance in the workspace)."""

    fk_fields = ("workspace", "account")

    def select(self, queryset):
        return queryset.select_related("account")

    def natural_key_of(self, row):
        account = row.values.get("account")
        return self.natural_key(account.pk if account is not None else None, row.values)

    def prefetch(self, rows):
        self.by_ext = self.existing_by_external_id(rows)
        self.natural = {}
        if self.match == BY_EXTERNAL_ID_OR_NATURAL_KEY:
            self.natural = self.existing_by_natural_key(rows)

    NATURAL_FIELDS = ()  # the fields a sheet row is matched on when it has no external ID
    missing_account = None  # what a new row without its account is told

    def natural_key(self, account_id, values):
        raise NotImplementedError

    def candidates(self, account_ids, rows):
        """The existing records of these accounts that rows of a sheet may be."""
        return self.model.objects.for_workspace(self.workspace).filter(account_id__in=account_ids)

    def existing_by_natural_key(self, rows):
        natural = {}
        account_ids = {row.values["account"].pk for row in rows if row.values.get("account") is not None}
        for chunk in chunks(account_ids):
            for record in self.select(self.candidates(chunk, rows)):
                record = self.by_ext.get(record.external_id, record)  # one object per record
                values = {name: getattr(record, name) for name in self.NATURAL_FIELDS}
                natural.setdefault(self.natural_key(record.account_id, values), record)
        return natural

    def match_natural(self, row, ext):
        """By natural key, adopting only a record without an external ID of its own."""
        account = row.values.get("account")
        if account is None:
            return None
        candidate = self.natural.get(self.natural_key(account.pk, row.values))
        if candidate is not None and (not ext or not candidate.external_id):
            return candidate
        return None

    def plan_row(self, row, seen):
        values = row.values
        existing = self.find(row, seen)
        account = values.get("account") or (existing.account if existing is not None else None)
        if account is None:
            self.fail(row, "account", str(self.missing_account))
        self.same_workspace(row, account=account)
        created = existing is None
        plan = Plan(row=row, instance=existing or self.new(account), created=created)
        instance = plan.instance
        if not created and instance.account_id != account.pk:
            plan.changed["account"] = instance.account
            self.authorize_on(row, instance)  # moving it is a write on the old account too
        instance.account = account
        ext = values.get("external_id") or ""
        if ext and instance.external_id != ext:
            plan.changed.setdefault("external_id", instance.external_id)
            instance.external_id = ext
        self.assign(plan, values, self.FIELDS)
        self.authorize_on(row, instance)
        return plan

    def new(self, account):
        return self.model(workspace=self.workspace, account=account)

    def authorize_on(self, row, instance):
        self.allowed(row, "accounts.change_child", instance)


class ContactWriter(AccountChildWriter):
    model = Contact
    kind = "contact"
    missing_account = gettext_lazy("A new contact needs an account.")
    FIELDS = ("name", "email", "title", "role", "is_key_person", "left_on")

    natural_label = "name"
    NATURAL_FIELDS = ("email", "name")

    @staticmethod
    def natural_key(account_id, values):
        email = (values.get("email") or "").strip().lower()
        return (account_id, "email", email) if email else (account_id, "name", (values.get("name") or "").strip())

    def plan_row(self, row, seen):
        if "email" in row.values:
            row.values["email"] = (row.values["email"] or "").strip()
        return super().plan_row(row, seen)

    def after_write(self, plans):
        left = [plan.instance for plan in plans if plan.instance.left_on is not None
                and (plan.created or "left_on" in plan.changed)]
        if left:
            contact_left.send(sender=Contact, workspace=self.workspace,
                              account_ids=sorted({c.account_id for c in left}), contact_ids=[c.pk for c in left])



class ContractWriter(AccountChildWriter):
    model = Contract
    kind = "contract"
    missing_account = gettext_lazy("A new contract needs an account.")
    FIELDS = ("product", "mrr", "quantity", "unit", "start_date", "end_date", "renewal_date")
    natural_label = "start_date"
    NATURAL_FIELDS = ("product", "start_date")

    @staticmethod
    def natural_key(account_id, values):
        return (account_id, (values.get("product") or "").strip(), values.get("start_date"))

    def check(self, plan):
        contract = plan.instance
        if contract.end_date and contract.start_date and contract.end_date < contract.start_date:
            self.fail(plan.row, "end_date", _("A contract cannot end before it starts."))

    def after_write(self, plans):
        """The lines' versions (accounts.line_history), known from the workspace's day of the write: a
        new line's, and a new one for each line whose values changed (the open one closes)."""
        line_history.record(
            self.workspace, opened=[plan.instance for plan in plans if plan.created],
            changed=[plan.instance for plan in plans if not plan.created and line_history.versioned_change(plan.changed)],
            source=self.history_source())



class TouchpointWriter(AccountChildWriter):
    model = Touchpoint
    kind = "touchpoint"
    missing_account = gettext_lazy("A new touchpoint needs an account.")
    FIELDS = ("occurred_at", "channel", "summary", "sentiment", "author")
    fk_fields = ("workspace", "account", "author")
    natural_label = "occurred_at"

    def select(self, queryset):
        return queryset.select_related("account", "author__user")

    NATURAL_FIELDS = ("occurred_at", "channel", "summary")

    @staticmethod
    def natural_key(account_id, values):
        return (account_id, values.get("occurred_at"), values.get("channel"), (values.get("summary") or "").strip())

    def candidates(self, account_ids, rows):
        # A sheet of touches covers a span of time: only that span can hold the same touches.
        moments = [row.values["occurred_at"] for row in rows if row.values.get("occurred_at")]
        if not moments:
            return Touchpoint.objects.none()
        return super().candidates(account_ids, rows).filter(occurred_at__range=(min(moments), max(moments)))

    def new(self, account):
        # The member who logs it is its author, unless another is named (a manager's right).
        return Touchpoint(workspace=self.workspace, account=account, author=acting_member(self.actor),
                          occurred_at=timezone.now())

    def authorize_on(self, row, touchpoint):
        if touchpoint.pk is None:
            self.allowed(row, "touchpoints.log", touchpoint)
        else:
            self.allowed(row, "touchpoints.change", touchpoint)

    def plan_row(self, row, seen):
        plan = super().plan_row(row, seen)
        touchpoint, values = plan.instance, row.values
        author = touchpoint.author
        self.same_workspace(row, author=author)
        if "author" in plan.changed or (plan.created and author != acting_member(self.actor)):
            # Naming someone else, or taking over someone else's touchpoint, is a manager's act.
            self.allowed(row, "touchpoints.log_for_others", touchpoint)
        if author is not None and "author" in values and not author.can_log_touchpoints:
            self.fail(row, "author", _("“%(name)s” is a viewer; viewers cannot log touchpoints.")
                      % {"name": author.display_name})
        if "contacts" in values:
            contacts = list(values["contacts"] or ())
            if any(c.workspace_id != self.workspace.pk or c.account_id != touchpoint.account_id for c in contacts):
                self.fail(row, "contacts", _("Contacts must belong to the touchpoint's account."))
            plan.extra["contacts"] = contacts
        return plan

    def after_write(self, plans):
        through = Touchpoint.contacts.through
        with_contacts = [plan for plan in plans if "contacts" in plan.extra]
        for chunk in chunks(with_contacts):
            through.objects.filter(touchpoint_id__in=[p.instance.pk for p in chunk if not p.created]).delete()
            insert_pairs(through._meta.db_table, ["touchpoint_id", "contact_id"],
                         [(p.instance.pk, c.pk) for p in chunk for c in p.extra["contacts"]])
        # What depends on an account's touches (its coverage today, whose rules may ask who was
        # met: so after the contacts) follows in this transaction.
        accounts = {plan.instance.account_id for plan in plans}
        accounts |= {getattr(plan.changed["account"], "pk", plan.changed["account"])
                     for plan in plans if "account" in plan.changed}
        if accounts:
            touchpoints_changed.send(sender=Touchpoint, workspace=self.workspace,
                                     account_ids=sorted(a for a in accounts if a))
