"""The Curators group's boundary: keep listings and vocabularies true, nothing beyond."""

import pytest
from django.contrib.auth.models import Group, User
from django.urls import reverse

from facilities.models import Facility, ProblemReport, Term
from facilities.permissions import CURATORS_GROUP
from tests.factories import add_line, line_of

FACILITY_CHANGELIST = reverse("admin:facilities_facility_changelist")


@pytest.fixture
def facility(db):
    facility = Facility.objects.create(
        name="Hope Recovery", city="Jackson", state="MS", zip="39201"
    )
    add_line(facility, "SA", levels=["OIT"])
    return facility


def action_names(response):
    form = response.context["action_form"]  # None when the user has no action at all
    return {name for name, _label in form.fields["action"].choices} if form else set()


@pytest.mark.django_db
def test_curators_group_holds_no_user_management_or_delete_permission():
    group = Group.objects.get(name=CURATORS_GROUP)
    codenames = set(group.permissions.values_list("content_type__app_label", "codename"))
    assert ("facilities", "change_facility") in codenames
    assert ("facilities", "add_term") in codenames
    # A listing's service lines are edited (and added) on its page.
    for action in ("view", "add", "change"):
        assert ("facilities", f"{action}_serviceline") in codenames
    # Besides listings and vocabularies, curators hand out partner API keys.
    assert not {app for app, _codename in codenames} - {"facilities", "rest_framework_api_key"}
    assert ("rest_framework_api_key", "add_apikey") in codenames
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


def test_admin_index_shows_curator_only_listings_and_api_keys(curator_client):
    response = curator_client.get(reverse("admin:index"))
    apps = {app["app_label"] for app in response.context["app_list"]}
    assert apps == {"facilities", "rest_framework_api_key"}


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
        {
            "label": "Garden therapy",
            "description": "",
            "parent": "",
            "sort_order": 5,
            "seen_version": term.version,
        },
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


# Change history and the login lockout records

AXES_CHANGELISTS = [
    "admin:axes_accessattempt_changelist",
    "admin:axes_accesslog_changelist",
    "admin:axes_accessfailurelog_changelist",
]


@pytest.mark.django_db
def test_curators_group_holds_history_view_and_revert():
    group = Group.objects.get(name=CURATORS_GROUP)
    codenames = set(group.permissions.values_list("codename", flat=True))
    for model in ("historicalfacility", "historicalserviceline", "historicalterm"):
        assert {f"view_{model}", f"change_{model}"} <= codenames
        assert f"delete_{model}" not in codenames
    assert not {codename for codename in codenames if "access" in codename}  # axes


def test_curator_can_see_history_and_revert(curator_client, facility, terms):
    facility.name = "Renamed"
    facility.save()
    original = facility.history.earliest()
    history = curator_client.get(reverse("admin:facilities_facility_history", args=[facility.pk]))
    assert history.status_code == 200
    revert_url = reverse(
        "admin:facilities_facility_simple_history", args=[facility.pk, original.history_id]
    )
    page = curator_client.get(revert_url)
    assert page.status_code == 200
    assert page.context["revert_disabled"] is False

    medicaid = terms("payment", "MD")
    term_history = reverse("admin:facilities_term_history", args=[medicaid.pk])
    assert curator_client.get(term_history).status_code == 200

    line = line_of(facility)
    line_history = reverse("admin:facilities_serviceline_history", args=[line.pk])
    assert curator_client.get(line_history).status_code == 200
    line_revert = reverse(
        "admin:facilities_serviceline_simple_history",
        args=[line.pk, line.history.earliest().history_id],
    )
    page = curator_client.get(line_revert)
    assert page.status_code == 200
    assert page.context["revert_disabled"] is False


def test_curator_cannot_delete_a_line_anywhere(curator_client, facility):
    line = line_of(facility)
    delete_url = reverse("admin:facilities_serviceline_delete", args=[line.pk])
    assert curator_client.post(delete_url, {"post": "yes"}).status_code == 403
    assert facility.lines.count() == 1
    change = curator_client.get(reverse("admin:facilities_facility_change", args=[facility.pk]))
    assert change.context["inline_admin_formsets"][0].formset.can_delete is False


@pytest.mark.django_db
def test_viewing_history_does_not_allow_reverting(client, facility):
    from django.contrib.auth.models import Permission

    from tests.admin_pages import post_data_from_form

    viewer = User.objects.create_user("vic", password="pw", is_staff=True)
    viewer.user_permissions.set(
        Permission.objects.filter(codename__in=["view_facility", "view_historicalfacility"])
    )
    client.force_login(viewer)
    original = facility.history.earliest()
    facility.name = "Renamed"
    facility.save()

    revert_url = reverse(
        "admin:facilities_facility_simple_history", args=[facility.pk, original.history_id]
    )
    page = client.get(revert_url)
    assert page.status_code == 200
    assert page.context["revert_disabled"] is True
    assert client.post(revert_url, post_data_from_form(page)).status_code == 403
    assert Facility.objects.get(pk=facility.pk).name == "Renamed"


@pytest.mark.django_db
def test_history_needs_the_history_permission(client, facility):
    from django.contrib.auth.models import Permission

    editor = User.objects.create_user("ed", password="pw", is_staff=True)
    editor.user_permissions.set(
        Permission.objects.filter(codename__in=["view_facility", "change_facility"])
    )
    client.force_login(editor)
    history = reverse("admin:facilities_facility_history", args=[facility.pk])
    assert client.get(history).status_code == 403


@pytest.mark.parametrize("url_name", AXES_CHANGELISTS)
def test_curator_cannot_see_or_clear_login_lockouts(curator_client, url_name):
    from axes.models import AccessAttempt
    from django.test import Client

    superuser = Client()  # not the curator's client: both fixtures log in on `client`
    superuser.force_login(User.objects.create_superuser("root", "root@example.org", "pw"))

    attempt = AccessAttempt.objects.create(
        username="casey",
        ip_address="203.0.113.7",
        failures_since_start=5,
        get_data="",
        post_data="",
    )
    assert superuser.get(reverse(url_name)).status_code == 200  # the pages exist
    assert curator_client.get(reverse(url_name)).status_code == 403
    delete_url = reverse("admin:axes_accessattempt_delete", args=[attempt.pk])
    assert curator_client.post(delete_url, {"post": "yes"}).status_code == 403
    assert AccessAttempt.objects.filter(pk=attempt.pk).exists()
