"""API shapes of accounts, contacts, touchpoints, contracts, stages and tags.

Serializers only parse and validate: related objects are looked up inside the caller's workspace
(an id of another workspace is "not found"), and the viewsets hand `validated_data` to
`accounts.services`, the single write path.
"""


from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from workspaces.api.fields import SaneDateTimeField, WorkspaceRelatedField, no_null_characters
from workspaces.api.plain import PlainReadMixin
from workspaces.api.serializers import BriefMembershipSerializer
from workspaces.models import Membership

from ..models import (
    Account,
    ChurnReasonCategory,
    Contact,
    Contract,
    HealthBand,
    LifecycleStage,
    Tag,
    Touchpoint,
    TouchTier,
)


class BriefStageSerializer(PlainReadMixin, serializers.ModelSerializer):
    class Meta:
        model = LifecycleStage
        fields = ["id", "name"]


class BriefAccountSerializer(PlainReadMixin, serializers.ModelSerializer):
    class Meta:
        model = Account
        fields = ["id", "name", "external_id"]


class BriefContactSerializer(PlainReadMixin, serializers.ModelSerializer):
    class Meta:
        model = Contact
        fields = ["id", "name", "email"]


class TagNamesField(serializers.ListField):
    """Tags travel as a list of names; unknown names are created in the workspace."""

    child = serializers.CharField(max_length=60)

    def to_representation(self, value):
        if isinstance(value, list):  # names already, from a plain row (accounts.selectors.account_rows)
            return value
        return [tag.name for tag in value.all()]


class WorkspaceModelSerializer(PlainReadMixin, serializers.ModelSerializer):
    # Lookups shared by the serializers below, always inside the caller's workspace. (A comment,
    # not a docstring: the schema would show a docstring as every subclass's description.)

    @property
    def workspace(self):
        return self.context["workspace"]

    def cached(self, key, lookup):
        """`lookup()` once per request for a bulk call (which puts a `lookup_cache` in the context)."""
        cache = self.context.get("lookup_cache")
        if cache is None:
            return lookup()
        if key not in cache:
            cache[key] = lookup()
        return cache[key]

    def resolve_member_email(self, attrs, *, email_field, target):
        """`owner_email`/`author_email` → the active member with that email, stored under `target`."""
        if email_field not in attrs:
            return
        email = attrs.pop(email_field)
        if not email:
            attrs.setdefault(target, None)
            return
        member = self.cached(("member_email", email.lower()), lambda: (
            Membership.objects.for_workspace(self.workspace)
            .filter(user__email__iexact=email, is_active=True)
            .select_related("user")
            .order_by("id")
            .first()
        ))
        if member is None:
            raise serializers.ValidationError({email_field: [_("No active member of this workspace has this email.")]})
        if target in attrs and attrs[target] != member:
            raise serializers.ValidationError(
                {email_field: [_("Names a different member than %(field)s.") % {"field": target}]}
            )
        attrs[target] = member

    def resolve_account_external_id(self, attrs):
        """`account_external_id` → the account, so a CRM can link rows by its own ids."""
        if "account_external_id" not in attrs:
            return
        external_id = attrs.pop("account_external_id")
        account = self.cached(
            ("account_external_id", external_id),
            lambda: Account.objects.for_workspace(self.workspace).filter(external_id=external_id).first(),
        )
        if account is None:
            raise serializers.ValidationError(
                {"account_external_id": [_("No account of this workspace has this external ID.")]}
            )
        if "account" in attrs and attrs["account"] != account:
            raise serializers.ValidationError({"account_external_id": [_("Names a different account than account.")]})
        attrs["account"] = account

    def require_account(self, attrs):
        if self.instance is None and attrs.get("account") is None:
            raise serializers.ValidationError({"account": [_("Give account (an id) or account_external_id.")]})


def member_field(**kwargs):
    return WorkspaceRelatedField(
        queryset=Membership.objects.select_related("user"), brief_serializer=BriefMembershipSerializer, **kwargs
    )


@extend_schema_serializer(description=_(
    "A customer account. Health and touch tier are computed nightly and read-only."
))
class AccountSerializer(WorkspaceModelSerializer):
    owner = member_field(
        allow_null=True, required=False, help_text=_("Membership id of the owning CSM (see /api/v1/members/).")
    )
    owner_email = serializers.EmailField(
        write_only=True, required=False, allow_blank=True,
        help_text=_("Alternative to owner: the email of an active member of the workspace."),
    )
    stage = WorkspaceRelatedField(
        queryset=LifecycleStage.objects.all(), brief_serializer=BriefStageSerializer, allow_null=True,
        required=False, help_text=_("Lifecycle stage id (see /api/v1/stages/)."),
    )
    stage_name = serializers.CharField(
        write_only=True, required=False, help_text=_("Alternative to stage: the stage's name (case-insensitive)."),
    )
    tags = TagNamesField(required=False, help_text=_("Tag names; replaces the account's tags when given."))
    # A code of the workspace's own list, so a string rather than an enum: the schema is the same for
    # every workspace, the codes are not.
    churn_reason = serializers.CharField(
        max_length=30, required=False, allow_blank=True,
        help_text=_("The code of one of the workspace's churn reasons (GET /api/v1/churn-reasons/; the defaults are "
                    "onboarding_failure, low_usage, champion_left, budget, price, competitor, product_gap, support, "
                    "business_closed, other). Required when status is churned; an archived reason is refused for "
                    "a new churn. Empty on active accounts."),
    )
    # Computed nightly: blank until the first computation (or outside every tier).
    touch_tier = serializers.ChoiceField(choices=TouchTier.choices, allow_blank=True, read_only=True)
    health_band = serializers.ChoiceField(choices=HealthBand.choices, allow_blank=True, read_only=True)

    class Meta:
        model = Account
        fields = [
            "id", "name", "external_id", "domain", "owner", "owner_email", "arr", "plan", "licensed_seats",
            "contract_start", "renewal_date", "stage", "stage_name", "stage_entered_at", "status", "churned_on",
            "churn_reason", "churn_note", "tags", "attributes",
            "touch_tier", "health_score", "health_band", "health_change_30d", "created_at", "updated_at",
        ]
        read_only_fields = [
            "stage_entered_at", "touch_tier", "health_score", "health_band", "health_change_30d",
            "created_at", "updated_at",
        ]
        extra_kwargs = {"attributes": {"validators": [no_null_characters]}}

    def validate_attributes(self, value):
        if not isinstance(value, dict):
            raise serializers.ValidationError(_('Send an object, e.g. {"nps": 42}.'))
        return value

    def validate(self, attrs):
        self.resolve_member_email(attrs, email_field="owner_email", target="owner")
        if "stage_name" in attrs:
            name = attrs.pop("stage_name")
            stage = self.cached(
                ("stage_name", name.strip().lower()),
                lambda: LifecycleStage.objects.for_workspace(self.workspace).filter(name__iexact=name.strip()).first(),
            )
            if stage is None:
                raise serializers.ValidationError({"stage_name": [_("No lifecycle stage has this name.")]})
            if "stage" in attrs and attrs["stage"] != stage:
                raise serializers.ValidationError({"stage_name": [_("Names a different stage than stage.")]})
            attrs["stage"] = stage
        return attrs


@extend_schema_serializer(description=_("A person at a customer account."))
class ContactSerializer(WorkspaceModelSerializer):
    account = WorkspaceRelatedField(
        queryset=Account.objects.all(), brief_serializer=BriefAccountSerializer, required=False,
        help_text=_("Account id."),
    )
    account_external_id = serializers.CharField(
        write_only=True, required=False, help_text=_("Alternative to account: the account's external ID."),
    )

    class Meta:
        model = Contact
        fields = [
            "id", "account", "account_external_id", "external_id", "name", "email", "title", "role",
            "is_key_person", "left_on", "created_at", "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]

    def validate(self, attrs):
        self.resolve_account_external_id(attrs)
        self.require_account(attrs)
        return attrs


@extend_schema_serializer(description=_(
    "A call, meeting, email or one-to-many programme touch on an account's timeline."
))
class TouchpointSerializer(WorkspaceModelSerializer):
    account = WorkspaceRelatedField(
        queryset=Account.objects.all(), brief_serializer=BriefAccountSerializer, required=False,
        help_text=_("Account id."),
    )
    account_external_id = serializers.CharField(
        write_only=True, required=False, help_text=_("Alternative to account: the account's external ID."),
    )
    # Null once the author's membership is deleted; a write leaves it out to mean the caller.
    author = member_field(required=False, reads_null=True, help_text=_("Membership id; defaults to the caller."))
    author_email = serializers.EmailField(
        write_only=True, required=False, help_text=_("Alternative to author: the email of an active member."),
    )
    contacts = WorkspaceRelatedField(
        queryset=Contact.objects.all(), brief_serializer=BriefContactSerializer, many=True, required=False,
        help_text=_("Ids of the account's contacts who took part."),
    )

    occurred_at = SaneDateTimeField(required=False)

    class Meta:
        model = Touchpoint
        fields = [
            "id", "account", "account_external_id", "author", "author_email", "contacts", "channel",
            "occurred_at", "summary", "sentiment", "external_id", "created_at",
        ]
        read_only_fields = ["created_at"]

    def validate(self, attrs):
        self.resolve_account_external_id(attrs)
        self.resolve_member_email(attrs, email_field="author_email", target="author")
        self.require_account(attrs)
        account = attrs.get("account") or (self.instance.account if self.instance else None)
        contacts = attrs.get("contacts") or []
        if any(contact.account_id != account.pk for contact in contacts):
            raise serializers.ValidationError({"contacts": [_("Contacts must belong to the touchpoint's account.")]})
        return attrs


@extend_schema_serializer(description=_("A commercial line of an account: product, MRR, seats and term."))
class ContractSerializer(WorkspaceModelSerializer):
    account = WorkspaceRelatedField(
        queryset=Account.objects.all(), brief_serializer=BriefAccountSerializer, required=False,
        help_text=_("Account id."),
    )
    account_external_id = serializers.CharField(
        write_only=True, required=False, help_text=_("Alternative to account: the account's external ID."),
    )
    arr = serializers.DecimalField(max_digits=18, decimal_places=2, read_only=True, help_text=_("MRR × 12."))

    class Meta:
        model = Contract
        fields = [
            "id", "account", "account_external_id", "external_id", "product", "mrr", "arr", "quantity",
            "unit", "start_date", "end_date", "renewal_date", "created_at", "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]

    def validate(self, attrs):
        self.resolve_account_external_id(attrs)
        self.require_account(attrs)
        start = attrs.get("start_date", getattr(self.instance, "start_date", None))
        end = attrs.get("end_date", getattr(self.instance, "end_date", None))
        if start and end and end < start:
            raise serializers.ValidationError({"end_date": [_("A contract cannot end before it starts.")]})
        return attrs


@extend_schema_serializer(description=_("One step of the workspace's ordered customer lifecycle."))
class LifecycleStageSerializer(WorkspaceModelSerializer):
    class Meta:
        model = LifecycleStage
        fields = ["id", "name", "position", "target_share", "stuck_after_days"]
        extra_kwargs = {"target_share": {"min_value": 0, "max_value": 100},
                        "stuck_after_days": {"min_value": 1, "max_value": 3650}}

    def validate_target_share(self, value):
        if value is None:
            return value
        others = LifecycleStage.objects.for_workspace(self.workspace)
        if self.instance is not None:
            others = others.exclude(pk=self.instance.pk)
        total = sum(s or 0 for s in others.values_list("target_share", flat=True)) + value
        if total > 100:
            raise serializers.ValidationError(
                _("Target shares add up to %(total)s%%; they must not exceed 100%%.") % {"total": total})
        return value

    def validate_name(self, value):
        taken = LifecycleStage.objects.for_workspace(self.workspace).filter(name__iexact=value.strip())
        if self.instance is not None:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise serializers.ValidationError(_("A lifecycle stage with this name already exists."))
        return value.strip()


class TagSerializer(PlainReadMixin, serializers.ModelSerializer):
    class Meta:
        model = Tag
        fields = ["id", "name"]


@extend_schema_serializer(description=_(
    "One of the workspace's churn reasons. Accounts name it by `code`, which never changes; an archived "
    "reason is not offered for new churns but keeps naming the accounts that churned with it."
))
class ChurnReasonSerializer(WorkspaceModelSerializer):
    code = serializers.SlugField(
        max_length=30, required=False, allow_blank=True,
        help_text=_("Set once, on creation (made from the name when left out); it cannot change."),
    )

    class Meta:
        model = ChurnReasonCategory
        fields = ["id", "code", "name", "description", "counts_as_onboarding_failure", "position", "archived"]
