"""Two people editing one record: the second save is refused, never silently applied."""

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client
from django.urls import reverse

from facilities.history import single_history_entry
from facilities.models import Facility, ServiceLine, Term
from facilities.permissions import CURATORS_GROUP
from tests.admin_pages import inline_forms, post_data_from_form
from tests.factories import add_line, line_of

CHANGELIST = reverse("admin:facilities_facility_changelist")


def change_url(obj):
    return reverse(f"admin:facilities_{obj._meta.model_name}_change", args=[obj.pk])


def history_url(obj):
    return reverse(f"admin:facilities_{obj._meta.model_name}_history", args=[obj.pk])


@pytest.fixture
def facility(db, terms):
    """A listing with a substance use line (Medicaid) and a mental health line."""
    facility = Facility.objects.create(
        name="Hope Recovery", city="Jackson", state="MS", zip="39201", phone="601-555-0100"
    )
    add_line(facility, "SA", levels=["OIT"], payments=["MD"])
    add_line(facility, "MH", levels=["ORT"], payments=["MD"])
    return facility


def codes(related):
    return sorted(related.values_list("code", flat=True))


@pytest.fixture
def other_curator_client(db):
    """A second curator, in their own browser."""
    user = User.objects.create_user(
        "nora", password="pw", is_staff=True, first_name="Nora", last_name="Lind"
    )
    user.groups.add(Group.objects.get(name=CURATORS_GROUP))
    client = Client()
    client.force_login(user)
    return client


def conflict_errors(response):
    assert response.status_code == 200, "the save went through"
    return response.context["adminform"].form.non_field_errors()


def test_second_of_two_concurrent_saves_is_refused(curator_client, other_curator_client, facility):
    mine = post_data_from_form(curator_client.get(change_url(facility)))
    theirs = post_data_from_form(other_curator_client.get(change_url(facility)))

    theirs["name"] = "Hope Recovery Center"
    assert other_curator_client.post(change_url(facility), theirs).status_code == 302

    mine["phone"] = "601-555-0199"
    response = curator_client.post(change_url(facility), mine)
    errors = conflict_errors(response)
    assert len(errors) == 1
    assert "Nora Lind saved this facility" in errors[0]
    assert "Your changes have NOT been saved" in errors[0]
    # The message links to the history, where the other change is shown.
    html = response.content.decode()
    assert f'href="{history_url(facility)}"' in html
    assert f'<a href="{change_url(facility)}">reload the facility</a>' in html

    facility.refresh_from_db()
    assert facility.name == "Hope Recovery Center"  # the first save stands
    assert facility.phone == "601-555-0100"  # the stale one changed nothing
    assert "phone" not in facility.curated_fields

    # Reloading gives a page that saves.
    fresh = post_data_from_form(curator_client.get(change_url(facility)))
    fresh["phone"] = "601-555-0199"
    assert curator_client.post(change_url(facility), fresh).status_code == 302
    facility.refresh_from_db()
    assert (facility.name, facility.phone) == ("Hope Recovery Center", "601-555-0199")


def test_a_line_change_by_another_curator_is_not_overwritten(
    curator_client, other_curator_client, facility, terms
):
    mine = post_data_from_form(curator_client.get(change_url(facility)))
    theirs = post_data_from_form(other_curator_client.get(change_url(facility)))
    theirs["lines-0-payment_options"] = [str(terms("payment", "PI").pk)]
    assert other_curator_client.post(change_url(facility), theirs).status_code == 302

    mine["name"] = "Renamed"
    mine["lines-0-payment_options"] = [str(terms("payment", "SF").pk)]
    mine["lines-1-hours_per_week_min"] = "9"
    conflict_errors(curator_client.post(change_url(facility), mine))
    facility.refresh_from_db()
    assert facility.name == "Hope Recovery"
    assert codes(line_of(facility, "SA").payment_options) == ["PI"]
    assert line_of(facility, "MH").hours_per_week_min is None  # nothing of mine was saved


def test_two_curators_editing_one_line_the_second_is_refused_on_the_lines_form(
    curator_client, other_curator_client, facility, terms
):
    """The other curator saves the line on its own page: only the line's version moves."""
    line = line_of(facility, "SA")
    listing_version = Facility.objects.get(pk=facility.pk).version
    mine = post_data_from_form(curator_client.get(change_url(facility)))
    theirs = post_data_from_form(other_curator_client.get(change_url(line)))
    theirs["payment_options"] = [str(terms("payment", "PI").pk)]
    assert other_curator_client.post(change_url(line), theirs).status_code == 302
    assert Facility.objects.get(pk=facility.pk).version == listing_version

    mine["lines-0-payment_options"] = [str(terms("payment", "SF").pk)]
    mine["phone"] = "601-555-0199"
    response = curator_client.post(change_url(facility), mine)
    assert response.status_code == 200, "the save went through"
    assert not response.context["adminform"].form.non_field_errors()  # the listing is fine
    errors = inline_forms(response).forms[0].non_field_errors()
    assert len(errors) == 1
    assert "Nora Lind saved this service line" in errors[0]
    assert "Your changes have NOT been saved" in errors[0]
    html = response.content.decode()
    assert f'href="{history_url(line)}"' in html  # the line's own history
    assert f'<a href="{change_url(facility)}">reload the facility</a>' in html  # this page
    # Nothing was saved: not the line, not the listing's phone beside it.
    assert codes(line.payment_options) == ["PI"]
    facility.refresh_from_db()
    assert facility.phone == "601-555-0100"
    assert not line.history.filter(history_user__username="casey").exists()

    # Reloading gives a page that saves, on top of their change.
    fresh = post_data_from_form(curator_client.get(change_url(facility)))
    assert fresh["lines-0-payment_options"] == [str(terms("payment", "PI").pk)]
    fresh["lines-0-payment_options"].append(str(terms("payment", "SF").pk))
    assert curator_client.post(change_url(facility), fresh).status_code == 302
    assert codes(line.payment_options) == ["PI", "SF"]


def test_a_script_changing_a_line_meanwhile_causes_a_conflict_on_that_line(
    curator_client, facility, terms
):
    data = post_data_from_form(curator_client.get(change_url(facility)))
    # What the importer does to a line (importers/findtreatment.py): save and set terms.
    imported = ServiceLine.objects.get(facility=facility, kind="MH")
    with single_history_entry(imported, reason="FindTreatment.gov import"):
        imported.save()
        imported.payment_options.set([terms("payment", "MC")])

    data["lines-1-payment_options"] = [str(terms("payment", "SF").pk)]
    response = curator_client.post(change_url(facility), data)
    assert response.status_code == 200
    errors = inline_forms(response).forms[1].non_field_errors()
    assert "an import or a script saved this service line" in errors[0]
    assert codes(line_of(facility, "MH").payment_options) == ["MC"]


def test_removing_a_line_someone_changed_meanwhile_is_refused(superuser_client, facility, terms):
    data = post_data_from_form(superuser_client.get(change_url(facility)))
    imported = ServiceLine.objects.get(facility=facility, kind="MH")
    imported.save()
    data["lines-1-DELETE"] = "on"
    response = superuser_client.post(change_url(facility), data)
    assert response.status_code == 200
    errors = inline_forms(response).non_form_errors()
    assert "saved this service line" in errors[0]
    assert facility.lines.count() == 2


def test_a_findtreatment_import_changing_a_line_meanwhile_causes_a_conflict(
    curator_client, tmp_path, terms
):
    from tests.findtreatment_support import run_import, sample_row, write_page

    row = sample_row(1)  # a substance use row that takes Medicaid
    assert run_import(write_page(tmp_path / "first.json", [row]))[0] == 0
    facility = Facility.objects.get()
    line = line_of(facility, "SA")
    assert "MD" in codes(line.payment_options)

    data = post_data_from_form(curator_client.get(change_url(facility)))
    # The next export no longer lists Medicaid for this program.
    for service in row["services"]:
        if service["f2"] == "PAY":
            service["f3"] = "Cash or self-payment"
    assert run_import(write_page(tmp_path / "second.json", [row]))[0] == 0
    assert codes(line.payment_options) == ["SF"]

    data["lines-0-payment_options"].append(str(terms("payment", "MI").pk))
    response = curator_client.post(change_url(facility), data)
    errors = [
        *response.context["adminform"].form.non_field_errors(),
        *inline_forms(response).forms[0].non_field_errors(),
    ]
    assert errors
    assert all("an import or a script saved this" in error for error in errors)
    assert codes(line.payment_options) == ["SF"]  # the import's change stands
    assert "payment_options" not in line_of(facility, "SA").curated_fields


def test_an_import_saving_the_listing_meanwhile_causes_a_conflict(curator_client, facility):
    data = post_data_from_form(curator_client.get(change_url(facility)))
    # What an importer does: load, change, save().
    imported = Facility.objects.get(pk=facility.pk)
    imported.website = "https://hope.example.org/"
    imported.save()

    data["website"] = "https://wrong.example.org/"
    errors = conflict_errors(curator_client.post(change_url(facility), data))
    assert "an import or a script saved this facility" in errors[0]
    facility.refresh_from_db()
    assert facility.website == "https://hope.example.org/"


def test_bulk_writes_raise_the_version(facility):
    start = Facility.objects.get(pk=facility.pk).version
    Facility.objects.filter(pk=facility.pk).update(status="published")
    assert Facility.objects.get(pk=facility.pk).version == start + 1

    row = Facility.objects.get(pk=facility.pk)
    row.county = "Hinds"
    Facility.objects.bulk_update([row], ["county"])
    assert Facility.objects.get(pk=facility.pk).version == start + 2

    row = Facility.objects.get(pk=facility.pk)
    row.county = "Rankin"
    row.save(update_fields=["county"])
    assert Facility.objects.get(pk=facility.pk).version == start + 3


def test_a_bulk_update_meanwhile_causes_a_conflict(curator_client, facility):
    data = post_data_from_form(curator_client.get(change_url(facility)))
    Facility.objects.filter(pk=facility.pk).update(county="Hinds")  # leaves no history entry
    data["name"] = "Renamed"
    errors = conflict_errors(curator_client.post(change_url(facility), data))
    assert "This facility was changed by a bulk update" in errors[0]
    assert Facility.objects.get(pk=facility.pk).name == "Hope Recovery"


@pytest.mark.parametrize("action", ["publish", "archive", "mark_verified_today"])
def test_a_bulk_action_meanwhile_causes_a_conflict(
    curator_client, other_curator_client, facility, action
):
    data = post_data_from_form(curator_client.get(change_url(facility)))
    before = Facility.objects.get(pk=facility.pk).version
    other_curator_client.post(CHANGELIST, {"action": action, "_selected_action": [facility.pk]})
    after = Facility.objects.get(pk=facility.pk)
    assert after.version == before + 1

    data["name"] = "Renamed"
    conflict_errors(curator_client.post(change_url(facility), data))
    facility.refresh_from_db()
    assert facility.name == "Hope Recovery"
    assert (facility.status, facility.verified_at) == (after.status, after.verified_at)


def test_a_form_without_its_version_is_refused(curator_client, facility):
    data = post_data_from_form(curator_client.get(change_url(facility)))
    del data["seen_version"]  # a page cached from before, or a hand-made request
    data["name"] = "Renamed"
    conflict_errors(curator_client.post(change_url(facility), data))
    assert Facility.objects.get(pk=facility.pk).name == "Hope Recovery"


def test_a_forged_version_is_refused(curator_client, facility):
    data = post_data_from_form(curator_client.get(change_url(facility)))
    data["seen_version"] = "not a number"
    data["name"] = "Renamed"
    response = curator_client.post(change_url(facility), data)
    assert response.status_code == 200
    assert Facility.objects.get(pk=facility.pk).name == "Hope Recovery"


def test_term_edits_are_checked_too(curator_client, other_curator_client, terms):
    medicaid = terms("payment", "MD")
    mine = post_data_from_form(curator_client.get(change_url(medicaid)))
    theirs = post_data_from_form(other_curator_client.get(change_url(medicaid)))
    theirs["label"] = "Medicaid (any state plan)"
    assert other_curator_client.post(change_url(medicaid), theirs).status_code == 302

    mine["description"] = "State health coverage"
    errors = conflict_errors(curator_client.post(change_url(medicaid), mine))
    assert "Nora Lind saved this vocabulary term" in errors[0]
    medicaid = Term.objects.get(pk=medicaid.pk)
    assert medicaid.label == "Medicaid (any state plan)"
    assert medicaid.description != "State health coverage"


def test_adding_a_listing_needs_no_version(curator_client, terms):
    add_url = reverse("admin:facilities_facility_add")
    data = post_data_from_form(curator_client.get(add_url))
    assert data["seen_version"] == ""
    data.update(name="New Dawn IOP", city="Hattiesburg", state="MS", zip="39401", status="draft")
    assert curator_client.post(add_url, data).status_code == 302
    assert Facility.objects.get(name="New Dawn IOP").version == 1
