from django.utils.translation import gettext_lazy as _
from rest_framework.pagination import PageNumberPagination


class StandardPagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
    # DRF's own descriptions of the two parameters, which its catalogue does not translate to Japanese.
    page_query_description = _("A page number within the paginated result set.")
    page_size_query_description = _("Number of results to return per page.")
