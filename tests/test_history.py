"""Change history of listings and vocabularies: who changed what and when, and revert."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from facilities.models import Facility, Term
from tests.admin_pages import post_data_from_form

CHANGELIST = reverse("admin:facilities_facility_changelist")


def change_url(obj):
    return reverse(f"admin:facilities_{obj._meta.model_name}_change", args=[obj.pk])


def history_url(obj):
    return reverse(f"admin:facilities_{obj._meta.model_name}_history", args=[obj.pk])


def revert_url(record):
    name = record.instance_type._meta.model_name
    return reverse(f"admin:facilities_{name}_simple_history", args=[record.id, record.history_id])


def codes(related):
    return sorted(related.values_list("code", flat=True))


def history_codes(record, field):
    return sorted(getattr(record, field).values_list("term__code", flat=True))


def edit(client, obj, **changes):
    data = post_data_from_form(client.get(change_url(obj)))
    data.update(changes)
    response = client.post(change_url(obj), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    return response


def changes_shown(client, obj):
    """{field label: (old, new)} for each entry on the admin history page, newest first."""
    response = client.get(history_url(obj))
    assert response.status_code == 200
    return [
        {change["field"]: (change["old"], change["new"]) for change in changes}
        for changes in (
            getattr(record, "history_delta_changes", []) for record in response.context["page_obj"]
        )
    ]


@pytest.fixture
def facility(db, terms):
    facility = Facility.objects.create(
        name="Hope Recovery", city="Jackson", state="MS", zip="39201", status="published"
    )
    facility.payment_options.set([terms("payment", "MD"), terms("payment", "PI")])
    facility.populations.set([terms("population", "VET")])
    return facility


def test_admin_edit_is_one_entry_with_who_when_and_the_terms(
    curator_client, curator, facility, terms
):
    before = facility.history.count()
    edit(
        curator_client,
        facility,
        name="Hope Recovery Center",
        payment_options=[str(terms("payment", "MD").pk), str(terms("payment", "MC").pk)],
        languages=[str(terms("language", "SP").pk)],
    )
    # One save, one entry: not one more for each vocabulary changed.
    assert facility.history.count() == before + 1
    latest = facility.history.latest()
    assert latest.history_user == curator
    assert latest.history_type == "~"
    assert latest.name == "Hope Recovery Center"
    assert history_codes(latest, "payment_options") == ["MC", "MD"]
    assert history_codes(latest, "languages") == ["SP"]
    assert history_codes(latest, "populations") == ["VET"]  # unchanged terms are kept too


def test_history_page_shows_who_and_the_changed_fields(curator_client, facility, terms):
    edit(
        curator_client,
        facility,
        name="Hope Recovery Center",
        payment_options=[str(terms("payment", "MD").pk)],
    )
    newest = changes_shown(curator_client, facility)[0]
    assert newest["Name"] == ("Hope Recovery", "Hope Recovery Center")
    old_terms, new_terms = newest["Payment accepted"]
    assert "Private health insurance" in old_terms
    assert "Private health insurance" not in new_terms
    assert set(newest) == {"Name", "Payment accepted"}  # nothing else is claimed changed

    html = curator_client.get(history_url(facility)).content.decode()
    assert "casey" in html  # the "Changed by" column


def test_revert_restores_fields_and_terms_and_counts_as_a_curators_edit(
    curator_client, curator, facility, terms
):
    original = facility.history.latest()
    edit(
        curator_client,
        facility,
        name="Wrong Name",
        phone="601-555-0111",
        payment_options=[str(terms("payment", "SF").pk)],
    )
    facility.refresh_from_db()
    version_before_revert = facility.version

    page = curator_client.get(revert_url(original))
    assert page.status_code == 200
    assert b'value="Revert"' in page.content
    response = curator_client.post(revert_url(original), post_data_from_form(page))
    assert response.status_code == 302, response.context["adminform"].form.errors

    facility.refresh_from_db()
    assert (facility.name, facility.phone) == ("Hope Recovery", "")
    assert codes(facility.payment_options) == ["MD", "PI"]
    assert codes(facility.populations) == ["VET"]
    assert facility.version == version_before_revert + 1
    # Imports must not undo the revert: what it changed is curated now.
    assert {"name", "phone", "payment_options"} <= set(facility.curated_fields)
    latest = facility.history.latest()
    assert latest.history_user == curator
    assert latest.history_change_reason.startswith("Reverted to the version of")


def test_revert_is_refused_if_the_listing_changed_after_the_revert_page_opened(
    curator_client, facility
):
    original = facility.history.latest()
    edit(curator_client, facility, name="Second Name")
    page = curator_client.get(revert_url(original))
    edit(curator_client, facility, name="Third Name")  # someone saves meanwhile

    response = curator_client.post(revert_url(original), post_data_from_form(page))
    assert response.status_code == 200
    assert "saved this facility" in response.context["adminform"].form.non_field_errors()[0]
    assert Facility.objects.get(pk=facility.pk).name == "Third Name"


def test_bulk_action_is_recorded_per_listing_with_its_terms(curator_client, curator, facility):
    other = Facility.objects.create(name="Other", city="Oxford", state="MS", zip="38655")
    curator_client.post(
        CHANGELIST, {"action": "archive", "_selected_action": [facility.pk, other.pk]}
    )
    for listing in (facility, other):
        latest = listing.history.latest()
        assert latest.status == "archived"
        assert latest.history_user == curator
        assert latest.history_change_reason == "Bulk action: archived"
    # The entry keeps the listing's terms: reverting to it must not wipe them.
    assert history_codes(facility.history.latest(), "payment_options") == ["MD", "PI"]
    newest = changes_shown(curator_client, facility)[0]
    assert newest == {"Status": ("Published", "Archived")}


def test_bulk_mark_verified_keeps_curated_fields_and_is_recorded(curator_client, facility):
    curator_client.post(
        CHANGELIST, {"action": "mark_verified_today", "_selected_action": [facility.pk]}
    )
    facility.refresh_from_db()
    assert {"verified_at", "verified_by"} <= set(facility.curated_fields)
    latest = facility.history.latest()
    assert latest.verified_at == facility.verified_at
    assert latest.curated_fields == facility.curated_fields


def test_saves_outside_admin_are_recorded_without_a_user(facility, terms):
    listing = Facility.objects.get(pk=facility.pk)
    listing.phone = "601-555-0123"
    listing.save()
    latest = listing.history.latest()
    assert latest.history_user is None
    assert latest.phone == "601-555-0123"


def test_term_history_is_recorded_shown_and_revertible(curator_client, curator, terms):
    medicaid = terms("payment", "MD")
    edit(curator_client, medicaid, label="Medicaid (any state plan)")
    latest = medicaid.history.latest()
    assert (latest.history_user, latest.label) == (curator, "Medicaid (any state plan)")
    assert changes_shown(curator_client, medicaid)[0] == {
        "Label": ("Medicaid", "Medicaid (any state plan)")
    }

    first = medicaid.history.earliest()
    page = curator_client.get(revert_url(first))
    assert curator_client.post(revert_url(first), post_data_from_form(page)).status_code == 302
    assert Term.objects.get(pk=medicaid.pk).label == "Medicaid"


def test_deleting_a_listing_is_recorded(superuser_client, facility):
    pk = facility.pk
    delete_url = reverse("admin:facilities_facility_delete", args=[pk])
    superuser_client.post(delete_url, {"post": "yes"})
    assert not Facility.objects.filter(pk=pk).exists()
    assert Facility.history.filter(id=pk).latest().history_type == "-"


def test_baseline_history_gives_unrecorded_rows_a_first_entry_with_terms(facility):
    Facility.history.all().delete()
    Term.history.filter(code="MD").delete()
    out = StringIO()
    call_command("baseline_history", stdout=out)
    assert "facilities: 1 recorded" in out.getvalue()
    assert "vocabulary terms: 1 recorded" in out.getvalue()
    entry = facility.history.get()
    assert history_codes(entry, "payment_options") == ["MD", "PI"]
    assert Term.history.filter(code="MD").count() == 1
    call_command("baseline_history", stdout=out)
    assert facility.history.count() == 1  # only rows without history get one


def test_terms_have_history_from_the_start(db):
    # Migrations load the vocabularies; the first curator edit diffs against this.
    assert Term.history.count() == Term.objects.count()


def test_history_page_escapes_what_was_typed(curator_client, facility):
    edit(curator_client, facility, name="<script>alert(1)</script>")
    html = curator_client.get(history_url(facility)).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_code_saving_a_listing_and_its_terms_can_write_one_entry(db, terms):
    from facilities.history import single_history_entry

    listing = Facility(name="Imported", city="Oxford", state="MS", zip="38655")
    with single_history_entry(listing, reason="FindTreatment.gov import"):
        listing.save()
        listing.payment_options.set([terms("payment", "MD")])
        listing.languages.set([terms("language", "SP")])
    entry = listing.history.get()
    assert (entry.history_type, entry.history_change_reason) == ("+", "FindTreatment.gov import")
    assert history_codes(entry, "payment_options") == ["MD"]
    assert history_codes(entry, "languages") == ["SP"]

    with single_history_entry(listing):
        listing.phone = "662-555-0100"
        listing.save()
        listing.payment_options.add(terms("payment", "PI"))
    assert listing.history.count() == 2
    assert history_codes(listing.history.latest(), "payment_options") == ["MD", "PI"]


def test_history_page_query_count_does_not_grow_with_entries(curator_client, facility, terms):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def page_queries():
        with CaptureQueriesContext(connection) as queries:
            assert curator_client.get(history_url(facility)).status_code == 200
        return len(queries)

    payment = [terms("payment", code) for code in ("MD", "PI", "MC", "SF")]
    for number in range(3):
        facility.name = f"Name {number}"
        facility.save()
        facility.payment_options.set(payment[: number + 1])
    page_queries()  # warms what a process caches once (content types), whichever test ran first
    few = page_queries()
    for number in range(12):
        facility.name = f"Later name {number}"
        facility.save()
        facility.payment_options.set(payment[: number % 4 + 1])
    assert facility.history.count() > 25  # a full page
    assert page_queries() == few
    # The vocabulary diffs are still there.
    assert any("Payment accepted" in entry for entry in changes_shown(curator_client, facility))
