from django.urls import path

from . import views

app_name = "workspaces"

urlpatterns = [
    path("switch/", views.switch_workspace, name="switch"),
    path("profile/", views.ProfileView.as_view(), name="profile"),
    path("language/", views.set_language, name="language"),
    path("members/", views.MembersView.as_view(), name="members"),
    path("members/invite/", views.InviteView.as_view(), name="invite"),
    path("invitations/<int:pk>/revoke/", views.RevokeInvitationView.as_view(), name="invitation_revoke"),
    path("join/<str:token>/", views.JoinView.as_view(), name="join"),
    path("members/<int:pk>/role/", views.ChangeRoleView.as_view(), name="member_role"),
    path("members/<int:pk>/deactivate/", views.DeactivateMemberView.as_view(), name="member_deactivate"),
    path("members/<int:pk>/reactivate/", views.ReactivateMemberView.as_view(), name="member_reactivate"),
    path("members/<int:pk>/unlock/", views.UnlockMemberView.as_view(), name="member_unlock"),
    path("tokens/", views.TokensView.as_view(), name="tokens"),
    path("tokens/<int:pk>/revoke/", views.RevokeTokenView.as_view(), name="token_revoke"),
]
