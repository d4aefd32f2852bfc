"""REST API v1 for accounts and what hangs off them. Declarations on the workspace-scoped bases.

Every write goes through `accounts.services`, which also decide who may do what (workspaces.policy):
the viewsets parse, call and answer.
"""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema

from workspaces.api.upsert import ExternalIdUpsertMixin, upsert_actions
from workspaces.api.viewsets import WorkspaceReadOnlyViewSet, WorkspaceViewSet

from .. import services
from ..filtersets import AccountFilterSet, ContactFilterSet, ContractFilterSet, TouchpointFilterSet
from ..models import Account, ChurnReasonCategory, Contact, Contract, LifecycleStage, Tag, Touchpoint
from ..selectors import ACCOUNT_ORDERINGS, account_rows
from .serializers import (
    AccountSerializer,
    ChurnReasonSerializer,
    ContactSerializer,
    ContractSerializer,
    LifecycleStageSerializer,
    TagSerializer,
    TouchpointSerializer,
)


@extend_schema(description=_(
    "Customer accounts. Filters are those of the account list page; `ordering` sorts."
))
class AccountViewSet(ExternalIdUpsertMixin, WorkspaceViewSet):
    queryset = Account.objects.select_related("owner__user", "stage").prefetch_related("tags")
    serializer_class = AccountSerializer
    # Upserting a new row is "accounts.create", a row of another owner "accounts.reassign": the writers check.
    policy_actions = {"create": "accounts.create", "update": "accounts.change", "partial_update": "accounts.change",
                      "destroy": "accounts.delete", "by_external_id.put": "accounts.change",
                      "bulk_upsert": "accounts.change"}
    filterset_class = AccountFilterSet
    ordering_fields = sorted({key.lstrip("-") for key in ACCOUNT_ORDERINGS} | {"created_at", "id"})
    ordering = ["name"]
    upsert_service = services.upsert_account
    bulk_upsert_service = services.bulk_upsert_accounts
    by_external_id, bulk_upsert = upsert_actions(
        AccountSerializer,
        read=_("Read the account with this external ID"),
        write=_("Create or update the account with this external ID"),
        bulk=_("Create or update up to %(max)d accounts by external ID, all or nothing"),
    )

    def list(self, request, *args, **kwargs):
        # Count and page through ids alone (an index-only scan), then read that page as plain rows:
        # building model instances of 50 accounts, their owners, users, stages and tags cost several
        # times the SQL. The JSON is the detail's, row for row (tests/test_account_queries.py).
        accounts = self.filter_queryset(self.get_queryset())
        ids = self.paginate_queryset(accounts.values_list("pk", flat=True))
        rows = account_rows(workspace=request.workspace, ids=ids)
        return self.get_paginated_response(self.get_serializer(rows, many=True).data)

    def perform_create(self, serializer):
        serializer.instance = services.create_account(
            workspace=self.request.workspace, actor=self.request.actor, **serializer.validated_data
        )

    def perform_update(self, serializer):
        services.update_account(account=serializer.instance, actor=self.request.actor, **serializer.validated_data)
        serializer.instance = self.get_queryset().get(pk=serializer.instance.pk)

    def perform_destroy(self, instance):
        services.delete_account(account=instance, actor=self.request.actor)


class AccountChildWritesMixin:
    # Contacts and contracts hang off an account (a CSM writes them on accounts they own: the
    # services decide). Each viewset names its write services: save_service(workspace=, actor=, <model>=, account=, …)
    # and delete_service(<model>=, actor=).
    save_service = None
    delete_service = None
    policy_actions = {action: "accounts.change_child" for action in (
        "create", "update", "partial_update", "destroy", "by_external_id.put", "bulk_upsert")}

    def _model_name(self):
        return self.queryset.model._meta.model_name

    def perform_create(self, serializer):
        serializer.instance = type(self).save_service(
            workspace=self.request.workspace, actor=self.request.actor, **serializer.validated_data
        )

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        instance = serializer.instance
        data.setdefault("account", instance.account)
        serializer.instance = type(self).save_service(
            workspace=self.request.workspace, actor=self.request.actor, **{self._model_name(): instance}, **data
        )

    def perform_destroy(self, instance):
        type(self).delete_service(**{self._model_name(): instance}, actor=self.request.actor)


@extend_schema(description=_("Contacts of the workspace's accounts. CSMs write them on accounts they own."))
class ContactViewSet(AccountChildWritesMixin, ExternalIdUpsertMixin, WorkspaceViewSet):
    queryset = Contact.objects.select_related("account")
    serializer_class = ContactSerializer
    filterset_class = ContactFilterSet
    ordering_fields = ["name", "email", "is_key_person", "created_at", "updated_at", "id"]
    ordering = ["-is_key_person", "name"]
    upsert_service = services.upsert_contact
    bulk_upsert_service = services.bulk_upsert_contacts
    by_external_id, bulk_upsert = upsert_actions(
        ContactSerializer,
        read=_("Read the contact with this external ID"),
        write=_("Create or update the contact with this external ID"),
        bulk=_("Create or update up to %(max)d contacts by external ID, all or nothing"),
    )
    save_service = services.save_contact
    delete_service = services.delete_contact


@extend_schema(description=_("Contracts of the workspace's accounts. CSMs write them on accounts they own."))
class ContractViewSet(AccountChildWritesMixin, ExternalIdUpsertMixin, WorkspaceViewSet):
    queryset = Contract.objects.select_related("account")
    serializer_class = ContractSerializer
    filterset_class = ContractFilterSet
    ordering_fields = ["start_date", "end_date", "mrr", "product", "created_at", "id"]
    ordering = ["-start_date"]
    upsert_service = services.upsert_contract
    bulk_upsert_service = services.bulk_upsert_contracts
    by_external_id, bulk_upsert = upsert_actions(
        ContractSerializer,
        read=_("Read the contract with this external ID"),
        write=_("Create or update the contract with this external ID"),
        bulk=_("Create or update up to %(max)d contracts by external ID, all or nothing"),
    )
    save_service = services.save_contract
    delete_service = services.delete_contract


@extend_schema(description=_(
    "CSMs log and edit touchpoints on any account of the workspace, not only their own."
))
class TouchpointViewSet(ExternalIdUpsertMixin, WorkspaceViewSet):
    queryset = Touchpoint.objects.select_related("account", "author__user").prefetch_related("contacts")
    serializer_class = TouchpointSerializer
    # Another author is "touchpoints.log_for_others": the writers check.
    policy_actions = {"create": "touchpoints.log", "update": "touchpoints.change",
                      "partial_update": "touchpoints.change", "destroy": "touchpoints.delete",
                      "by_external_id.put": "touchpoints.change", "bulk_upsert": "touchpoints.log"}
    filterset_class = TouchpointFilterSet
    ordering_fields = ["occurred_at", "created_at", "id"]
    ordering = ["-occurred_at"]
    upsert_service = services.upsert_touchpoint
    bulk_upsert_service = services.bulk_upsert_touchpoints
    by_external_id, bulk_upsert = upsert_actions(
        TouchpointSerializer,
        read=_("Read the touchpoint with this external ID"),
        write=_("Create or update the touchpoint with this external ID"),
        bulk=_("Create or update up to %(max)d touchpoints by external ID, all or nothing"),
    )

    def perform_create(self, serializer):
        touchpoint = services.log_touchpoint(actor=self.request.actor, **serializer.validated_data)
        serializer.instance = self.get_queryset().get(pk=touchpoint.pk)

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        services.update_touchpoint(touchpoint=serializer.instance, actor=self.request.actor, **data)
        serializer.instance = self.get_queryset().get(pk=serializer.instance.pk)

    def perform_destroy(self, instance):
        services.delete_touchpoint(touchpoint=instance, actor=self.request.actor)


@extend_schema(description=_(
    "The workspace's ordered stages. Managers edit them; stages in use cannot be deleted here."
))
class LifecycleStageViewSet(WorkspaceViewSet):
    queryset = LifecycleStage.objects.all()
    serializer_class = LifecycleStageSerializer
    policy_actions = {action: "accounts.manage_stages" for action in ("create", "update", "partial_update")}
    http_method_names = ["get", "post", "put", "patch", "head", "options"]
    ordering_fields = ["position", "name", "id"]
    ordering = ["position"]
    filterset_fields = ["name"]

    def perform_create(self, serializer):
        serializer.instance = services.save_stage(
            workspace=self.request.workspace, actor=self.request.actor, **serializer.validated_data
        )

    def perform_update(self, serializer):
        serializer.instance = services.save_stage(
            workspace=self.request.workspace, actor=self.request.actor, stage=serializer.instance,
            **serializer.validated_data,
        )


@extend_schema(description=_(
    "The workspace's churn reasons, by position (archived ones too: `?archived=false` leaves them out). Every "
    "member reads them; managers add, change, archive and delete them. A reason an account names cannot be "
    "deleted: archive it."
))
class ChurnReasonViewSet(WorkspaceViewSet):
    queryset = ChurnReasonCategory.objects.all()
    serializer_class = ChurnReasonSerializer
    policy_actions = {action: "accounts.manage_churn_reasons"
                      for action in ("create", "update", "partial_update", "destroy")}
    ordering_fields = ["position", "name", "code", "id"]
    ordering = ["position"]
    filterset_fields = ["code", "archived", "counts_as_onboarding_failure"]

    def perform_create(self, serializer):
        serializer.instance = services.save_churn_reason(
            workspace=self.request.workspace, actor=self.request.actor, **serializer.validated_data
        )

    def perform_update(self, serializer):
        serializer.instance = services.save_churn_reason(
            workspace=self.request.workspace, actor=self.request.actor, reason=serializer.instance,
            **serializer.validated_data,
        )

    def perform_destroy(self, instance):
        services.delete_churn_reason(reason=instance, actor=self.request.actor)


@extend_schema(description=_("Tags are created by naming them on an account."))
class TagViewSet(WorkspaceReadOnlyViewSet):
    queryset = Tag.objects.all()
    serializer_class = TagSerializer
    ordering_fields = ["name", "id"]
    ordering = ["name"]
    filterset_fields = ["name"]
