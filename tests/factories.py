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
