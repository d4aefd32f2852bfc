from django.urls import path

from . import views

app_name = "workspaces"

urlpatterns = [
    path("switch/", views.switch_workspace, name="switch"),
    path("members/", views.MembersView.as_view(), name="members"),
    path("members/add/", views.AddMemberView.as_view(), name="member_add"),
    path("members/new/", views.NewUserView.as_view(), name="member_new"),
    path("members/<int:pk>/role/", views.ChangeRoleView.as_view(), name="member_role"),
    path("members/<int:pk>/deactivate/", views.DeactivateMemberView.as_view(), name="member_deactivate"),
    path("members/<int:pk>/reactivate/", views.ReactivateMemberView.as_view(), name="member_reactivate"),
    path("members/<int:pk>/unlock/", views.UnlockMemberView.as_view(), name="member_unlock"),
    path("tokens/", views.TokensView.as_view(), name="tokens"),
    path("tokens/<int:pk>/revoke/", views.RevokeTokenView.as_view(), name="token_revoke"),
]
