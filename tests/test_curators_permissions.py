"""The Curators group's boundary: keep listings and vocabularies true, nothing beyond."""

import pytest
from django.contrib.auth.models import Group, User
from django.urls import reverse

from facilities.models import Facility, ProblemReport, Term
from facilities.permissions import CURATORS_GROUP

FACILITY_CHANGELIST = reverse("admin:facilities_facility_changelist")


@pytest.fixture
def facility(db):
    return Facility.objects.create(name="Hope Recovery", city="Jackson", state="MS", zip="39201")


def action_names(response):
    form = response.context["action_form"]  # None when the user has no action at all
    return {name for name, _label in form.fields["action"].choices} if form else set()


@pytest.mark.django_db
def test_curators_group_holds_no_user_management_or_delete_permission():
    group = Group.objects.get(name=CURATORS_GROUP)
    codenames = set(group.permissions.values_list("content_type__app_label", "codename"))
    assert ("facilities", "change_facility") in codenames
    assert ("facilities", "add_term") in codenames
    assert not {app for app, _codename in codenames} - {"facilities"}
    assert not {codename for _app, codename in codenames if codename.startswith("delete_")}


@pytest.mark.parametrize(
    "url_name, args",
    [
        ("admin:auth_user_changelist", []),
        ("admin:auth_user_add", []),
        ("admin:auth_group_changelist", []),
        ("admin:auth_group_add", []),
    ],
)
def test_curator_cannot_manage_users_or_groups(curator_client, url_name, args):
    assert curator_client.get(reverse(url_name, args=args)).status_code == 403


def test_curator_cannot_edit_their_own_account_or_group(curator_client, curator):
    group = Group.objects.get(name=CURATORS_GROUP)
    user_page = reverse("admin:auth_user_change", args=[curator.pk])
    group_page = reverse("admin:auth_group_change", args=[group.pk])
    assert curator_client.get(user_page).status_code == 403
    assert curator_client.post(user_page, {"is_superuser": "on"}).status_code == 403
    assert curator_client.get(group_page).status_code == 403
    curator.refresh_from_db()
    assert not curator.is_superuser


def test_admin_index_shows_curator_only_the_facilities_app(curator_client):
    response = curator_client.get(reverse("admin:index"))
    apps = {app["app_label"] for app in response.context["app_list"]}
    assert apps == {"facilities"}


def test_curator_has_no_delete_action_and_cannot_delete_a_listing(curator_client, facility):
    response = curator_client.get(FACILITY_CHANGELIST)
    names = action_names(response)
    assert "delete_selected" not in names
    assert {"publish", "archive", "mark_verified_today"} <= names

    delete_url = reverse("admin:facilities_facility_delete", args=[facility.pk])
    assert curator_client.get(delete_url).status_code == 403
    assert curator_client.post(delete_url, {"post": "yes"}).status_code == 403
    # Forcing the hidden bulk action does nothing either.
    curator_client.post(
        FACILITY_CHANGELIST,
        {"action": "delete_selected", "_selected_action": [facility.pk], "post": "yes"},
    )
    assert Facility.objects.filter(pk=facility.pk).exists()
    # The change form offers no delete link.
    change = curator_client.get(reverse("admin:facilities_facility_change", args=[facility.pk]))
    assert change.context["has_delete_permission"] is False


def test_curator_cannot_delete_terms_or_reports(curator_client, facility, terms):
    term = terms("payment", "MD")
    term_delete = reverse("admin:facilities_term_delete", args=[term.pk])
    assert curator_client.post(term_delete, {"post": "yes"}).status_code == 403
    assert Term.objects.filter(pk=term.pk).exists()
    term_list = curator_client.get(reverse("admin:facilities_term_changelist"))
    assert "delete_selected" not in action_names(term_list)

    report = ProblemReport.objects.create(facility=facility, category="other", message="x")
    report_delete = reverse("admin:facilities_problemreport_delete", args=[report.pk])
    assert curator_client.post(report_delete, {"post": "yes"}).status_code == 403
    assert ProblemReport.objects.filter(pk=report.pk).exists()


def test_curator_can_add_and_change_terms(curator_client, terms):
    add = reverse("admin:facilities_term_add")
    assert curator_client.get(add).status_code == 200
    response = curator_client.post(
        add,
        {"group": "therapy", "code": "GARDEN", "label": "Horticultural therapy", "sort_order": 100},
    )
    assert response.status_code == 302
    term = Term.objects.get(group="therapy", code="GARDEN")
    response = curator_client.post(
        reverse("admin:facilities_term_change", args=[term.pk]),
        {"label": "Garden therapy", "description": "", "parent": "", "sort_order": 5},
    )
    assert response.status_code == 302
    term.refresh_from_db()
    assert (term.label, term.sort_order) == ("Garden therapy", 5)


def test_curator_can_work_reports_but_not_invent_them(curator_client, facility):
    report = ProblemReport.objects.create(facility=facility, category="phone", message="Wrong")
    change = reverse("admin:facilities_problemreport_change", args=[report.pk])
    response = curator_client.post(change, {"status": "dismissed", "curator_note": "Duplicate"})
    assert response.status_code == 302
    report.refresh_from_db()
    assert (report.status, report.curator_note) == ("dismissed", "Duplicate")
    # Reports come from the public form only.
    assert curator_client.get(reverse("admin:facilities_problemreport_add")).status_code == 403


@pytest.mark.django_db
def test_group_membership_alone_does_not_open_admin(client):
    user = User.objects.create_user("pat", password="pw", is_staff=False)
    user.groups.add(Group.objects.get(name=CURATORS_GROUP))
    client.force_login(user)
    response = client.get(FACILITY_CHANGELIST)
    assert response.status_code == 302
    assert reverse("admin:login") in response["Location"]


def test_superuser_can_delete_a_listing(superuser_client, facility):
    assert "delete_selected" in action_names(superuser_client.get(FACILITY_CHANGELIST))
    delete_url = reverse("admin:facilities_facility_delete", args=[facility.pk])
    assert superuser_client.get(delete_url).status_code == 200
    assert superuser_client.post(delete_url, {"post": "yes"}).status_code == 302
    assert not Facility.objects.filter(pk=facility.pk).exists()


def test_superuser_can_bulk_delete_and_delete_unused_terms(superuser_client, facility):
    other = Facility.objects.create(name="Other", city="Oxford", state="MS", zip="38655")
    superuser_client.post(
        FACILITY_CHANGELIST,
        {"action": "delete_selected", "_selected_action": [facility.pk, other.pk], "post": "yes"},
    )
    assert Facility.objects.count() == 0
    term = Term.objects.create(group="therapy", code="GARDEN", label="Garden therapy")
    delete_url = reverse("admin:facilities_term_delete", args=[term.pk])
    assert superuser_client.post(delete_url, {"post": "yes"}).status_code == 302
    assert not Term.objects.filter(pk=term.pk).exists()


def test_listings_stay_undeletable_even_if_the_group_gains_delete(
    curator_client, curator, facility
):
    # Archiving is the policy, not an accident of the group's permissions.
    from django.contrib.auth.models import Permission

    curator.user_permissions.add(Permission.objects.get(codename="delete_facility"))
    delete_url = reverse("admin:facilities_facility_delete", args=[facility.pk])
    assert curator_client.post(delete_url, {"post": "yes"}).status_code == 403
    assert "delete_selected" not in action_names(curator_client.get(FACILITY_CHANGELIST))
    assert Facility.objects.filter(pk=facility.pk).exists()
