"""factory-boy factories for bulk test data. Personas are in conftest.py."""

import datetime as dt
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from accounts.models import Account, Contact, Contract, LifecycleStage, Touchpoint
from workspaces.models import Membership, Role, Workspace


class WorkspaceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Workspace

    name = factory.Sequence(lambda n: f"Workspace {n}")
    slug = factory.Sequence(lambda n: f"ws-{n}")

    @factory.post_generation
    def defaults(obj, create, extracted, **kwargs):
        """Every capability's defaults, as provisioning creates them for a real workspace."""
        from cs_platform.provisioning import provision

        if create:
            provision(workspace=obj)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")

    @factory.post_generation
    def password(obj, create, extracted, **kwargs):
        obj.set_password(extracted or "pass-word-123")
        if create:
            obj.save(update_fields=["password"])


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    workspace = factory.SubFactory(WorkspaceFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.CSM


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Account

    workspace = factory.SubFactory(WorkspaceFactory)
    name = factory.Sequence(lambda n: f"Customer {n} KK")
    external_id = factory.Sequence(lambda n: f"crm-{n}")
    arr = Decimal("1200000")
    licensed_seats = 20
    contract_start = factory.LazyFunction(lambda: timezone.localdate() - dt.timedelta(days=400))
    renewal_date = factory.LazyFunction(lambda: timezone.localdate() + dt.timedelta(days=120))
    stage = factory.LazyAttribute(lambda a: LifecycleStage.objects.for_workspace(a.workspace).first())
    # A churned account names a reason (one of the defaults every workspace has), as the writers require.
    churn_reason = factory.LazyAttribute(lambda a: "other" if getattr(a, "status", "active") == "churned" else "")


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    account = factory.SubFactory(AccountFactory)
    workspace = factory.SelfAttribute("account.workspace")
    name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"contact{n}@customer.example")


class TouchpointFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Touchpoint

    account = factory.SubFactory(AccountFactory)
    workspace = factory.SelfAttribute("account.workspace")
    channel = "phone"
    occurred_at = factory.LazyFunction(timezone.now)
    summary = "Checked in on adoption."


class ContractFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contract

    account = factory.SubFactory(AccountFactory)
    workspace = factory.SelfAttribute("account.workspace")
    product = "Core plan"
    mrr = Decimal("100000")
    quantity = 20
    unit = "seats"
    start_date = factory.LazyFunction(lambda: timezone.localdate() - dt.timedelta(days=365))


class RenewalOutcomeFactory(factory.django.DjangoModelFactory):
    """A recorded renewal outcome (rows only: record_outcome also writes the lines)."""

    class Meta:
        model = "renewals.RenewalOutcome"

    line = factory.SubFactory(ContractFactory, end_date=factory.LazyFunction(timezone.localdate))
    account = factory.SelfAttribute("line.account")
    workspace = factory.SelfAttribute("line.workspace")
    due_on = factory.SelfAttribute("line.end_date")
    outcome = "renewed"
    previous_mrr = factory.SelfAttribute("line.mrr")
    new_mrr = factory.SelfAttribute("line.mrr")
class OpportunityFactory(factory.django.DjangoModelFactory):
    """A toss-up handed over today, credited to the account's owner, to an AE named in the CRM."""

    class Meta:
        model = "expansion.Opportunity"

    account = factory.SubFactory(AccountFactory)
    workspace = factory.SelfAttribute("account.workspace")
    kind = "upsell"
    estimated_mrr = Decimal("50000")
    raised_by = factory.SelfAttribute("account.owner")
    handed_to_name = "Ken Sales"
    handed_over_on = factory.LazyFunction(timezone.localdate)
def contract_line(account, mrr, start, end=None, **extra):
    """A contract line of `account` with MRR `mrr` from `start` until `end` (excluded; None: open)."""
    return ContractFactory(account=account, workspace=account.workspace, mrr=Decimal(str(mrr)), start_date=start,
                           end_date=end, **extra)
class ChurnReasonFactory(factory.django.DjangoModelFactory):
    """A workspace's own churn reason, besides the ten every workspace starts with."""

    class Meta:
        model = "accounts.ChurnReasonCategory"

    workspace = factory.SubFactory(WorkspaceFactory)
    code = factory.Sequence(lambda n: f"reason_{n}")
    name = factory.Sequence(lambda n: f"Reason {n}")
    position = 50
class FeatureRequestFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "voice.FeatureRequest"

    workspace = factory.SubFactory(WorkspaceFactory)
    title = factory.Sequence(lambda n: f"Feature request {n}")


class FeatureRequestEvidenceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "voice.FeatureRequestEvidence"

    request = factory.SubFactory(FeatureRequestFactory)
    workspace = factory.SelfAttribute("request.workspace")
    account = factory.SubFactory(AccountFactory, workspace=factory.SelfAttribute("..workspace"))
    quote = "We need this."
    date = factory.LazyFunction(timezone.localdate)
    source = "call"


class SurveyResponseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "voice.SurveyResponse"

    contact = factory.SubFactory(ContactFactory)
    workspace = factory.SelfAttribute("contact.workspace")
    account = factory.SelfAttribute("contact.account")
    kind = "nps"
    score = 9
    responded_on = factory.LazyFunction(timezone.localdate)
# --- programmes ------------------------------------------------------------------------------------
class ProgrammeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "programmes.Programme"

    workspace = factory.SubFactory(WorkspaceFactory)
    name = factory.Sequence(lambda n: f"Monthly webinar {n}")
    kind = "webinar"


class ProgrammeSessionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "programmes.ProgrammeSession"

    programme = factory.SubFactory(ProgrammeFactory)
    workspace = factory.SelfAttribute("programme.workspace")
    title = factory.Sequence(lambda n: f"Session {n}")
    starts_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=1))
