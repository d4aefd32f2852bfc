from django.views.generic import ListView

from workspaces.views import WorkspaceMixin

from .models import Account


class AccountListView(WorkspaceMixin, ListView):
    model = Account
    template_name = "accounts/account_list.html"
    paginate_by = 50
