"""Change history of listings and vocabularies: who changed what and when, and revert."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from facilities.models import Facility, ServiceLine, Term
from tests.admin_pages import post_data_from_form
from tests.factories import add_line, line_of

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
    """Save obj's change form as loaded, with these changes ("lines-0-name" for a line's)."""
    data = post_data_from_form(client.get(change_url(obj)))
    data.update(changes)
    response = client.post(change_url(obj), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    return response


def ids(*terms):
    return [str(term.pk) for term in terms]


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
    """A listing with one substance use line (Medicaid, private insurance; veterans)."""
    facility = Facility.objects.create(
        name="Hope Recovery", city="Jackson", state="MS", zip="39201", status="published"
    )
    add_line(facility, "SA", levels=["OIT"], payments=["MD", "PI"], populations=["VET"])
    return facility


def test_admin_edit_is_one_entry_per_changed_record_with_who_and_the_terms(
    curator_client, curator, facility, terms
):
    substance_use = line_of(facility, "SA")
    mental_health = add_line(facility, "MH", levels=["ORT"], payments=["MD"])
    listing_before = facility.history.count()
    substance_use_before = substance_use.history.count()
    mental_health_before = mental_health.history.count()
    edit(
        curator_client,
        facility,
        name="Hope Recovery Center",
        **{
            "lines-0-payment_options": ids(terms("payment", "MD"), terms("payment", "MC")),
            "lines-0-languages": ids(terms("language", "SP")),
        },
    )
    # One save, one entry per record it changed: not one more for each vocabulary.
    assert facility.history.count() == listing_before + 1
    assert substance_use.history.count() == substance_use_before + 1
    assert mental_health.history.count() == mental_health_before  # untouched

    listing = facility.history.latest()
    assert (listing.history_user, listing.history_type) == (curator, "~")
    assert listing.name == "Hope Recovery Center"
    # The listing's entry says which line changed; the line's own entry says how.
    assert listing.history_change_reason == "Service lines: substance use treatment edited"
    latest = substance_use.history.latest()
    assert (latest.history_user, latest.history_type) == (curator, "~")
    assert history_codes(latest, "payment_options") == ["MC", "MD"]
    assert history_codes(latest, "languages") == ["SP"]
    assert history_codes(latest, "populations") == ["VET"]  # unchanged terms are kept too


def test_a_listing_edit_without_line_changes_leaves_the_lines_history_alone(
    curator_client, facility
):
    line = line_of(facility)
    before = (line.history.count(), line.version)
    edit(curator_client, facility, phone="601-555-0111")
    line.refresh_from_db()
    assert (line.history.count(), line.version) == before
    assert not facility.history.latest().history_change_reason


def test_history_page_shows_who_and_the_changed_fields(curator_client, facility, terms):
    edit(
        curator_client,
        facility,
        name="Hope Recovery Center",
        **{"lines-0-payment_options": ids(terms("payment", "MD"))},
    )
    newest = changes_shown(curator_client, facility)[0]
    assert newest == {"Name": ("Hope Recovery", "Hope Recovery Center")}
    html = curator_client.get(history_url(facility)).content.decode()
    assert "casey" in html  # the "Changed by" column
    assert "Service lines: substance use treatment edited" in html


def test_a_lines_history_is_reached_from_its_listing_and_shows_term_diffs(
    curator_client, facility, terms
):
    edit(curator_client, facility, **{"lines-0-payment_options": ids(terms("payment", "MD"))})
    line = line_of(facility)
    # The inline's change link, then the line page's History button.
    listing_page = curator_client.get(change_url(facility)).content.decode()
    assert f'href="{change_url(line)}"' in listing_page
    line_page = curator_client.get(change_url(line))
    assert line_page.status_code == 200
    assert history_url(line) in line_page.content.decode()

    newest = changes_shown(curator_client, line)[0]
    assert set(newest) == {"Payment accepted"}  # nothing else is claimed changed
    old_terms, new_terms = newest["Payment accepted"]
    assert "Private health insurance" in old_terms
    assert "Private health insurance" not in new_terms
    html = curator_client.get(history_url(line)).content.decode()
    assert "casey" in html
    assert "Hope Recovery: Substance use treatment" in html  # which listing's line


def test_revert_restores_fields_and_counts_as_a_curators_edit(curator_client, curator, facility):
    original = facility.history.latest()
    edit(curator_client, facility, name="Wrong Name", phone="601-555-0111")
    facility.refresh_from_db()
    version_before_revert = facility.version

    page = curator_client.get(revert_url(original))
    assert page.status_code == 200
    assert b'value="Revert"' in page.content
    response = curator_client.post(revert_url(original), post_data_from_form(page))
    assert response.status_code == 302, response.context["adminform"].form.errors

    facility.refresh_from_db()
    assert (facility.name, facility.phone) == ("Hope Recovery", "")
    assert facility.version == version_before_revert + 1
    # Imports must not undo the revert: what it changed is curated now.
    assert {"name", "phone"} <= set(facility.curated_fields)
    latest = facility.history.latest()
    assert latest.history_user == curator
    assert latest.history_change_reason.startswith("Reverted to the version of")
    assert codes(line_of(facility).payment_options) == ["MD", "PI"]  # lines left alone


def test_reverting_a_line_restores_its_terms_and_schedule_and_counts_as_a_curators_edit(
    curator_client, curator, facility, terms
):
    line = line_of(facility)
    original = line.history.latest()
    entries = line.history.count()
    edit(
        curator_client,
        facility,
        **{
            "lines-0-payment_options": ids(terms("payment", "SF")),
            "lines-0-hours_per_week_min": "9",
            "lines-0-offers_evening": "on",
        },
    )
    line.refresh_from_db()
    assert set(line.curated_fields) == {"payment_options", "hours_per_week_min", "offers_evening"}
    # A curated field the revert does not change stays curated.
    ServiceLine.objects.filter(pk=line.pk).update(curated_fields=["services"])
    line.refresh_from_db()
    version_before_revert = line.version

    page = curator_client.get(revert_url(original))
    assert page.status_code == 200
    assert b'value="Revert"' in page.content
    assert "Revert Hope Recovery: Substance use treatment" in page.content.decode()
    response = curator_client.post(revert_url(original), post_data_from_form(page))
    assert response.status_code == 302, response.context["adminform"].form.errors

    line.refresh_from_db()
    assert codes(line.payment_options) == ["MD", "PI"]
    assert codes(line.populations) == ["VET"]
    assert (line.hours_per_week_min, line.offers_evening) == (None, False)
    assert line.facility_id == facility.pk
    assert line.version == version_before_revert + 1
    # What the revert changed is the curator's now; earlier curation is kept.
    assert set(line.curated_fields) == {
        "services",
        "payment_options",
        "hours_per_week_min",
        "offers_evening",
    }
    latest = line.history.latest()
    assert latest.history_user == curator
    assert latest.history_change_reason.startswith("Reverted to the version of")
    assert history_codes(latest, "payment_options") == ["MD", "PI"]
    assert line.history.count() == entries + 2  # edited, reverted: one entry each


def test_a_line_revert_is_refused_if_the_line_changed_after_the_page_opened(
    curator_client, facility, terms
):
    line = line_of(facility)
    original = line.history.latest()
    edit(curator_client, facility, **{"lines-0-payment_options": ids(terms("payment", "SF"))})
    page = curator_client.get(revert_url(original))
    # An import changes the line meanwhile.
    imported = ServiceLine.objects.get(pk=line.pk)
    imported.save()
    imported.payment_options.set([terms("payment", "MC")])

    response = curator_client.post(revert_url(original), post_data_from_form(page))
    assert response.status_code == 200
    errors = response.context["adminform"].form.non_field_errors()
    assert "an import or a script saved this service line" in errors[0]
    assert codes(line.payment_options) == ["MC"]


def test_a_line_revert_that_would_clash_with_the_other_lines_kind_is_a_form_error(
    curator_client, facility
):
    add_line(facility, "MH", levels=["ORT"])
    # The substance use line was once recorded as mental health: make that its history.
    line = line_of(facility, "SA")
    record = line.history.latest()
    record.kind = "MH"
    record.save()
    page = curator_client.get(revert_url(record))
    response = curator_client.post(revert_url(record), post_data_from_form(page))
    assert response.status_code == 200
    assert "kind" in response.context["adminform"].form.errors
    assert sorted(facility.lines.values_list("kind", flat=True)) == ["MH", "SA"]


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


def test_bulk_action_is_recorded_per_listing(curator_client, curator, facility):
    other = Facility.objects.create(name="Other", city="Oxford", state="MS", zip="38655")
    line = line_of(facility)
    line_entries = line.history.count()
    curator_client.post(
        CHANGELIST, {"action": "archive", "_selected_action": [facility.pk, other.pk]}
    )
    for listing in (facility, other):
        latest = listing.history.latest()
        assert latest.status == "archived"
        assert latest.history_user == curator
        assert latest.history_change_reason == "Bulk action: archived"
    newest = changes_shown(curator_client, facility)[0]
    assert newest == {"Status": ("Published", "Archived")}
    assert line.history.count() == line_entries  # the lines did not change


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
    pk, line_pk = facility.pk, line_of(facility).pk
    delete_url = reverse("admin:facilities_facility_delete", args=[pk])
    superuser_client.post(delete_url, {"post": "yes"})
    assert not Facility.objects.filter(pk=pk).exists()
    entry = Facility.history.filter(id=pk).latest()
    assert (entry.history_type, entry.history_user.username) == ("-", "root")
    assert ServiceLine.history.filter(id=line_pk).latest().history_type == "-"


def test_removing_a_line_is_recorded_with_who_removed_it(superuser_client, facility):
    mental = add_line(facility, "MH", levels=["ORT"])
    data = post_data_from_form(superuser_client.get(change_url(facility)))
    data["lines-1-DELETE"] = "on"
    assert superuser_client.post(change_url(facility), data).status_code == 302
    entry = ServiceLine.history.filter(id=mental.pk).latest()
    assert (entry.history_type, entry.history_user.username) == ("-", "root")
    assert (
        facility.history.latest().history_change_reason
        == "Service lines: mental health treatment removed"
    )

    # And on the line's own page, once the listing has two again.
    mental = add_line(facility, "MH", levels=["ORT"])
    delete_url = reverse("admin:facilities_serviceline_delete", args=[mental.pk])
    assert superuser_client.post(delete_url, {"post": "yes"}).status_code == 302
    entry = ServiceLine.history.filter(id=mental.pk).latest()
    assert (entry.history_type, entry.history_user.username) == ("-", "root")


def test_baseline_history_gives_unrecorded_rows_a_first_entry_with_terms(facility):
    line = line_of(facility)
    Facility.history.all().delete()
    ServiceLine.history.all().delete()
    Term.history.filter(code="MD").delete()
    out = StringIO()
    call_command("baseline_history", stdout=out)
    assert "facilities: 1 recorded" in out.getvalue()
    assert "service lines: 1 recorded" in out.getvalue()
    assert "vocabulary terms: 1 recorded" in out.getvalue()
    assert facility.history.get().name == "Hope Recovery"
    entry = line.history.get()
    assert entry.history_change_reason == "Baseline: history starts here"
    assert history_codes(entry, "payment_options") == ["MD", "PI"]
    assert history_codes(entry, "levels_of_care") == ["OIT"]
    assert Term.history.filter(code="MD").count() == 1
    call_command("baseline_history", stdout=out)
    assert facility.history.count() == 1  # only rows without history get one
    assert line.history.count() == 1


def test_terms_have_history_from_the_start(db):
    # Migrations load the vocabularies; the first curator edit diffs against this.
    assert Term.history.count() == Term.objects.count()


def test_history_page_escapes_what_was_typed(curator_client, facility):
    edit(curator_client, facility, name="<script>alert(1)</script>")
    html = curator_client.get(history_url(facility)).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_code_saving_a_line_and_its_terms_can_write_one_entry(db, terms):
    from facilities.history import single_history_entry

    listing = Facility.objects.create(name="Imported", city="Oxford", state="MS", zip="38655")
    line = ServiceLine(facility=listing, kind="MH")
    with single_history_entry(line, reason="FindTreatment.gov import"):
        line.save()
        line.payment_options.set([terms("payment", "MD")])
        line.languages.set([terms("language", "SP")])
    entry = line.history.get()
    assert (entry.history_type, entry.history_change_reason) == ("+", "FindTreatment.gov import")
    assert history_codes(entry, "payment_options") == ["MD"]
    assert history_codes(entry, "languages") == ["SP"]

    with single_history_entry(line):
        line.hours_per_week_min = 9
        line.save()
        line.payment_options.add(terms("payment", "PI"))
    assert line.history.count() == 2
    assert history_codes(line.history.latest(), "payment_options") == ["MD", "PI"]


def test_history_page_query_count_does_not_grow_with_entries(curator_client, facility, terms):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    line = line_of(facility)

    def page_queries(obj):
        with CaptureQueriesContext(connection) as queries:
            assert curator_client.get(history_url(obj)).status_code == 200
        return len(queries)

    def save_both(name, payments):
        facility.name = name
        facility.save()
        line.hours_per_week_min = len(payments)
        line.save()
        line.payment_options.set(payments)

    payment = [terms("payment", code) for code in ("MD", "PI", "MC", "SF")]
    for number in range(3):
        save_both(f"Name {number}", payment[: number + 1])
    # Warms what a process caches once (content types), whichever test ran first.
    page_queries(facility), page_queries(line)
    few = page_queries(facility), page_queries(line)
    for number in range(12):
        save_both(f"Later name {number}", payment[: number % 4 + 1])
    assert line.history.count() > 25  # a full page
    assert (page_queries(facility), page_queries(line)) == few
    # The vocabulary diffs are still there.
    assert any("Payment accepted" in entry for entry in changes_shown(curator_client, line))
