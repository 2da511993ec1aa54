"""The Curators group: what a curator may do in admin, and nothing more."""

from django.contrib.auth.models import Group, Permission

CURATORS_GROUP = "Curators"

# (app_label, codename). Curators keep listings and vocabularies true; they do
# not delete listings (they archive them), do not manage users and do not
# touch the login lockout records (axes).
CURATOR_PERMISSIONS = [
    ("facilities", "view_facility"),
    ("facilities", "add_facility"),
    ("facilities", "change_facility"),
    # A listing's service lines are edited on its page (inlines); removing one is for a
    # superuser: the next import would bring back a line its source still lists.
    ("facilities", "view_serviceline"),
    ("facilities", "add_serviceline"),
    ("facilities", "change_serviceline"),
    ("facilities", "view_term"),
    ("facilities", "add_term"),
    ("facilities", "change_term"),
    ("facilities", "view_problemreport"),
    ("facilities", "change_problemreport"),
    # Partner API keys: curators hand them out and revoke them (keys are never deleted).
    ("rest_framework_api_key", "view_apikey"),
    ("rest_framework_api_key", "add_apikey"),
    ("rest_framework_api_key", "change_apikey"),
    # Change history (django-simple-history): view = see who changed what and
    # when; change = revert to an earlier version. Nobody edits history itself:
    # it has no admin page of its own.
    ("facilities", "view_historicalfacility"),
    ("facilities", "change_historicalfacility"),
    ("facilities", "view_historicalserviceline"),
    ("facilities", "change_historicalserviceline"),
    ("facilities", "view_historicalterm"),
    ("facilities", "change_historicalterm"),
]


def ensure_curators_group(**kwargs):
    group, _ = Group.objects.get_or_create(name=CURATORS_GROUP)
    wanted = []
    for app_label, codename in CURATOR_PERMISSIONS:
        permission = Permission.objects.filter(
            content_type__app_label=app_label, codename=codename
        ).first()
        if permission is not None:
            wanted.append(permission)
    group.permissions.set(wanted)
    return group
