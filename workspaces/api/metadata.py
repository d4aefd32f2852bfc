"""`OPTIONS` on any API route: DRF's description of the route, with the form of each write the caller
could make there, judged as that write itself would be (its policy action, its object)."""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from rest_framework import exceptions
from rest_framework.metadata import SimpleMetadata
from rest_framework.request import clone_request


class WorkspaceMetadata(SimpleMetadata):
    def determine_actions(self, request, view):
        # DRF's own version asks the permissions with the action "metadata", which declares no policy
        # action (a 500 for a session's OPTIONS), and its copy of the request lacks the membership the
        # base views set (so a token never saw a form). Here the copy carries it, the view takes the
        # viewset action of the method asked about, and a refusal just leaves that form out.
        actions = {}
        action_map = getattr(view, "action_map", {})
        for method in {"PUT", "POST"} & set(view.allowed_methods):
            clone = clone_request(request, method)
            for name in ("membership", "workspace", "actor"):
                setattr(clone, name, getattr(request, name, None))
            metadata_action = getattr(view, "action", None)
            view.request, view.action = clone, action_map.get(method.lower())
            try:
                view.check_permissions(clone)
                if method == "PUT" and hasattr(view, "get_object"):
                    view.get_object()
            except (exceptions.APIException, PermissionDenied, Http404):
                pass
            else:
                actions[method] = self.get_serializer_info(view.get_serializer())
            finally:
                view.request, view.action = request, metadata_action
        return actions
