from .selectors import memberships_of


def current_workspace(request):
    membership = getattr(request, "membership", None)
    if not membership:
        return {"membership": None, "workspace": None, "my_memberships": []}
    return {
        "membership": membership,
        "workspace": membership.workspace,
        "my_memberships": list(memberships_of(request.user)),
    }
