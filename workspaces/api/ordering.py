from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import exceptions
from rest_framework.filters import OrderingFilter


class StrictOrderingFilter(OrderingFilter):
    """`?ordering=` restricted to the view's `ordering_fields` allow-list.

    Unknown fields are a 400 naming `ordering` rather than silently ignored, and the primary key
    is appended so that pages never repeat or skip rows that tie on the sort field.
    """

    ordering_description = gettext_lazy("Which field to use when ordering the results.")  # DRF's, in our catalogue

    def get_ordering(self, request, queryset, view):
        params = request.query_params.get(self.ordering_param)
        if params:
            fields = [param.strip() for param in params.split(",") if param.strip()]
            allowed = {name for name, _label in self.get_valid_fields(queryset, view, {"request": request})}
            unknown = [f for f in fields if f.lstrip("-") not in allowed]
            if unknown:
                raise exceptions.ValidationError({
                    self.ordering_param: [
                        _("Cannot order by %(fields)s. Choose from: %(allowed)s.")
                        % {"fields": ", ".join(unknown), "allowed": ", ".join(sorted(allowed))}
                    ]
                })
            ordering = fields
        else:
            ordering = list(self.get_default_ordering(view) or [])
        if ordering and not any(f.lstrip("-") in ("id", "pk") for f in ordering):
            ordering.append("-id" if ordering[-1].startswith("-") else "id")
        return ordering
