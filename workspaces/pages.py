"""The base of every page view: the signed-in member's workspace, scoping, roles and times.

A page view is built on `WorkspaceMixin` (the access matrix test walks the URLs to make sure):
- `self.workspace` and `self.membership` are the request's (chosen in the session by the
  workspace switcher; see workspaces.middleware); a user without a workspace gets a 404;
- `scoped(Model)` and `get_queryset()` read only this workspace's rows, and `get_object()` looks
  the URL's `pk` up in them, so another workspace's id is a 404 exactly like a missing one;
- what each request may do is declared, and checked here before the handler runs (a refusal is
  NotAllowed, Django's PermissionDenied: a 403): `required_action` names the policy action of every
  method (e.g. "health.backtest"), `policy_actions` the action per method (`{"post": "coverage.manage"}`;
  None: any member). A GET needs no declaration (every member reads); a POST without one is a
  programming error, which tests/test_access_matrix.py finds first. When
  the action's rule depends on the object (a CSM edits the accounts they own), the object is
  `policy_object()`: the URL's object by default. Services still check what the input adds;
- dates and times typed into forms are read in the workspace's time zone, as pages show them.
"""

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from .errors import DomainError
from .policy import authorize, needs_object

# What a service raises about its input; pages put it back on the form (a refusal is a 403).
SERVICE_ERRORS = (DomainError, ValidationError)
READ_METHODS = ("get", "head", "options")


class UndeclaredAction(ImproperlyConfigured):
    """A page or API view handles a write without declaring the policy action it performs."""


class WorkspaceMixin(LoginRequiredMixin):
    model = None
    required_action = None  # the policy action of every method
    policy_actions = {}  # the policy action per method, e.g. {"post": "coverage.manage"}; None: any member
    pk_url_kwarg = "pk"

    @classmethod
    def declared_action(cls, method):
        """The policy action a request with `method` performs (None: any member may), as declared.

        It may name a parameter, e.g. "imports.{object_type}", which `policy_params()` fills in."""
        method = "get" if method.lower() == "head" else method.lower()
        if method in cls.policy_actions:
            return cls.policy_actions[method]
        if cls.required_action or method in READ_METHODS:
            return cls.required_action
        raise UndeclaredAction(
            f"{cls.__module__}.{cls.__qualname__} handles {method.upper()} without declaring what it does: set "
            f'policy_actions = {{"{method}": "<action of workspaces.policy.RULES>"}} (or None if any member may), '
            f"or required_action for every method."
        )

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if request.membership is None:
            raise Http404(_("You are not a member of any workspace."))
        self.workspace = request.workspace
        self.membership = request.membership
        if hasattr(self, request.method.lower()):
            self.check_policy(request.method)
        with timezone.override(self.workspace.tz):
            return super().dispatch(request, *args, **kwargs)

    @property
    def actor(self):
        """Who the services are told acted: the signed-in member."""
        return self.membership

    def check_policy(self, method):
        """Refuse (403) unless the member may do what this request declares it does."""
        action = self.declared_action(method)
        if action is None:
            return
        action = action.format_map(self.policy_params())
        authorize(self.actor, action, self.policy_object() if needs_object(action) else None)

    def policy_params(self):
        """What fills in the declared action's {parameters}: the URL's by default."""
        return self.kwargs

    def policy_object(self):
        """What an object-level action is about: the URL's object by default."""
        return self.get_object()

    def scoped(self, model):
        return model.objects.for_workspace(self.workspace)

    def get_queryset(self):
        return self.scoped(self.model)

    def get_object(self, queryset=None):
        queryset = self.get_queryset() if queryset is None else queryset
        return get_object_or_404(queryset, pk=self.kwargs[self.pk_url_kwarg])

    def get_object_or_none(self):
        """The row a create-or-edit page edits; None on its create URL (no pk)."""
        return self.get_object() if self.pk_url_kwarg in self.kwargs else None

    def redirect_back(self, fallback, *args):
        """To the `next` the form posted when it is a page of this site, else to `fallback`."""
        target = self.request.POST.get("next") or self.request.GET.get("next") or ""
        if url_has_allowed_host_and_scheme(target, allowed_hosts={self.request.get_host()},
                                           require_https=self.request.is_secure()):
            return redirect(target)
        return redirect(fallback, *args)


def show_on_form(form, exc):
    """Show a service's DomainError or model ValidationError on the form, on the field it names."""
    if isinstance(exc, DomainError):
        form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        return
    if isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            target = field if field in form.fields else None
            for message in errors:
                form.add_error(target, message)
        return
    form.add_error(None, exc.messages if isinstance(exc, ValidationError) else str(exc))
