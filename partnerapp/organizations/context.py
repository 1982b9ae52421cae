"""The header's organization switcher: the user's organizations and the current one."""

from partnerapp.organizations import current


def organizations(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not hasattr(request, "session"):
        return {}

    def _all():
        return current.request_memberships(request)

    return {"organization_memberships": _all, "current_membership": current.membership(request)}
