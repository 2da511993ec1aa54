"""Admin as a curation tool, exercised the way a curator uses it: list, filter, edit, act."""

import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from facilities.models import Facility, ProblemReport, ServiceLine, Term
from tests.admin_pages import inline_forms, post_data_from_form
from tests.factories import add_line, line_of

CHANGELIST = reverse("admin:facilities_facility_changelist")


def change_url(obj):
    return reverse(f"admin:facilities_{obj._meta.model_name}_change", args=[obj.pk])


def make_facility(lines=None, **fields):
    """A listing and its service lines, terms given by code:
    make_facility(lines={"SA": {"levels": ["OIT"], "payments": ["MD"]}, "MH": {...}}).
    One substance use line without terms unless told.
    """
    values = {"name": "Hope Recovery", "city": "Jackson", "state": "MS", "zip": "39201"}
    values.update(fields)
    facility = Facility.objects.create(**values)
    for kind, terms in (lines or {"SA": {}}).items():
        add_line(facility, kind, **{"levels": (), **terms})
    return facility


def codes(related):
    return sorted(related.values_list("code", flat=True))


def messages_of(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


@pytest.fixture
def listings(terms):
    """A small, varied set: each filter below matches a known number of rows."""
    today = timezone.localdate()
    stale = today - timedelta(days=settings.STALE_AFTER_DAYS + 10)
    return {
        "hope": make_facility(
            name="Hope Recovery",
            program_name="Evening IOP",
            city="Jackson",
            state="MS",
            zip="39201",
            ownership=terms("ownership", "PVTN"),
            co_occurring=True,
            status="published",
            verified_at=today,
            lines={"SA": {"levels": ["OIT"], "payments": ["MD", "PI"], "populations": ["VET"]}},
        ),
        # Two lines that both take private insurance: found once by that filter.
        "river": make_facility(
            name="Riverbend Counseling",
            city="Oxford",
            state="MS",
            zip="38655",
            ownership=terms("ownership", "PVTP"),
            status="published",
            verified_at=stale,
            lines={
                "SA": {"levels": ["OIT"], "payments": ["PI"]},
                "MH": {"levels": ["ORT"], "payments": ["PI"]},
            },
        ),
        "blue": make_facility(
            name="Blue Ridge Behavioral",
            city="Roanoke",
            state="VA",
            zip="24011",
            ownership=terms("ownership", "LCCG"),
            co_occurring=True,
            status="draft",
            lines={
                "SA": {"payments": ["MD"], "populations": ["VET"]},
                "MH": {"payments": ["MD"], "populations": ["WN"]},
            },
        ),
        "demo": make_facility(
            name="Sunrise Demo Center",
            city="Richmond",
            state="VA",
            zip="23219",
            phone="804-555-0142",
            website="https://sunrise.example.org/",
            ownership=terms("ownership", "PVTP"),
            status="archived",
            source="demo",
            source_key="demo-1",
        ),
    }


def test_curator_sees_the_changelist_with_its_columns(curator_client, listings):
    response = curator_client.get(CHANGELIST)
    assert response.status_code == 200
    content = response.content.decode()
    for facility in listings.values():
        assert facility.name in content
    assert "Demo (fictional)" in content
    assert "Private non-profit" in content  # ownership column
    assert "(stale)" in content  # the stale verification shows in the list
    assert response.context["cl"].result_count == 4


@pytest.mark.parametrize(
    "query, expected",
    [
        ({"status__exact": "published"}, {"hope", "river"}),
        ({"status__exact": "archived"}, {"demo"}),
        ({"verification": "never"}, {"blue", "demo"}),
        ({"verification": "stale"}, {"river"}),
        ({"verification": "current"}, {"hope"}),
        ({"state": "VA"}, {"blue", "demo"}),
        ({"ownership": ("ownership", "PVTP")}, {"river", "demo"}),
        ({"lines__levels_of_care": ("level_of_care", "OIT")}, {"hope", "river"}),
        ({"lines__levels_of_care": ("level_of_care", "ORT")}, {"river"}),
        ({"lines__payment_options": ("payment", "MD")}, {"hope", "blue"}),
        ({"lines__payment_options": ("payment", "PI")}, {"hope", "river"}),
        ({"lines__populations": ("population", "VET")}, {"hope", "blue"}),
        ({"lines__populations": ("population", "WN")}, {"blue"}),
        ({"co_occurring__exact": "1"}, {"hope", "blue"}),
        ({"co_occurring__exact": "0"}, {"river", "demo"}),
        ({"source__exact": "demo"}, {"demo"}),
        ({"source__exact": "manual"}, {"hope", "river", "blue"}),
        ({"state": "MS", "lines__payment_options": ("payment", "MD")}, {"hope"}),
        # Riverbend's IOP line takes private insurance; its outpatient line does too.
        (
            {
                "lines__levels_of_care": ("level_of_care", "ORT"),
                "lines__payment_options": ("payment", "PI"),
            },
            {"river"},
        ),
        # Blue Ridge serves veterans in one line and women in the other: no line has both.
        (
            {
                "lines__populations": ("population", "VET"),
                "lines__payment_options": ("payment", "MD"),
            },
            {"hope", "blue"},
        ),
    ],
)
def test_each_list_filter_finds_the_right_listings(
    curator_client, listings, terms, query, expected
):
    params = {}
    for key, value in query.items():
        if isinstance(value, tuple):
            params[f"{key}__id__exact"] = terms(*value).pk
        else:
            params[key] = value
    response = curator_client.get(CHANGELIST, params)
    assert response.status_code == 200
    # A list, not a set: a listing with two matching lines is shown once.
    names = [facility.name for facility in response.context["cl"].result_list]
    assert sorted(names) == sorted(listings[key].name for key in expected)
    assert response.context["cl"].result_count == len(expected)


def test_line_filters_together_are_met_by_one_line(curator_client, terms):
    """The issue's example: an IOP paid for yourself beside outpatient care on Medicaid."""
    split = make_facility(
        name="Split Programs",
        lines={
            "SA": {"levels": ["OIT"], "payments": ["SF"]},
            "MH": {"levels": ["ORT"], "payments": ["MD", "SF"]},
        },
    )
    both = make_facility(
        name="IOP on Medicaid", lines={"SA": {"levels": ["OIT"], "payments": ["MD"]}}
    )
    iop, outpatient = terms("level_of_care", "OIT").pk, terms("level_of_care", "ORT").pk
    medicaid, veterans = terms("payment", "MD").pk, terms("population", "VET").pk

    def found(**params):
        response = curator_client.get(CHANGELIST, params)
        assert response.status_code == 200
        return [facility.name for facility in response.context["cl"].result_list]

    level, payment = "lines__levels_of_care__id__exact", "lines__payment_options__id__exact"
    assert found(**{level: iop, payment: medicaid}) == [both.name]
    assert sorted(found(**{level: iop})) == sorted([split.name, both.name])
    assert sorted(found(**{payment: medicaid})) == sorted([split.name, both.name])
    assert found(**{level: outpatient, payment: medicaid}) == [split.name]
    assert found(**{level: iop, "lines__populations__id__exact": veterans}) == []


def test_vocabulary_filters_offer_only_their_own_group(curator_client, listings):
    response = curator_client.get(CHANGELIST)
    specs = {
        spec.field.name: spec
        for spec in response.context["cl"].filter_specs
        if hasattr(spec, "field")
    }
    payment_groups = {
        Term.objects.get(pk=pk).group for pk, _label in specs["payment_options"].lookup_choices
    }
    population_groups = {
        Term.objects.get(pk=pk).group for pk, _label in specs["populations"].lookup_choices
    }
    ownership_groups = {
        Term.objects.get(pk=pk).group for pk, _label in specs["ownership"].lookup_choices
    }
    assert payment_groups == {"payment"}
    assert population_groups == {"population"}
    assert ownership_groups == {"ownership"}
    # Only the terms some line uses are offered.
    assert {label for _pk, label in specs["populations"].lookup_choices} == {
        "Veterans",
        Term.objects.get(group="population", code="WN").label,
    }


@pytest.mark.parametrize(
    "term, expected",
    [
        ("riverbend", {"river"}),
        ("evening iop", {"hope"}),  # program name
        ("roanoke", {"blue"}),  # city
        ("38655", {"river"}),  # ZIP
        ("392", {"hope"}),  # ZIP prefix
        ("jackson", {"hope"}),
        ("nowhere", set()),
    ],
)
def test_search_by_name_program_city_and_zip(curator_client, listings, term, expected):
    response = curator_client.get(CHANGELIST, {"q": term})
    names = {facility.name for facility in response.context["cl"].result_list}
    assert names == {listings[key].name for key in expected}


def test_change_form_round_trip_saves_and_records_curated_fields(curator_client, listings, terms):
    hope = listings["hope"]
    response = curator_client.get(change_url(hope))
    assert response.status_code == 200
    data = post_data_from_form(response)
    # Unchanged data saves cleanly and marks nothing as curated.
    response = curator_client.post(change_url(hope), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    hope.refresh_from_db()
    line = line_of(hope)
    assert (hope.curated_fields, line.curated_fields) == ([], [])

    # Each save starts from a freshly loaded page (a stale one is refused: locking.py).
    data = post_data_from_form(curator_client.get(change_url(hope)))
    data["name"] = "Hope Recovery Center"
    data["lines-0-payment_options"] = [
        *data["lines-0-payment_options"],
        str(terms("payment", "MC").pk),
    ]
    data["lines-0-hours_per_week_min"], data["lines-0-hours_per_week_max"] = "9", "12"
    data["lines-0-offers_evening"] = "on"
    response = curator_client.post(change_url(hope), data)
    assert response.status_code == 302, response.context["adminform"].form.errors

    hope.refresh_from_db()
    line = line_of(hope)
    assert hope.name == "Hope Recovery Center"
    assert codes(line.payment_options) == ["MC", "MD", "PI"]
    assert (line.hours_per_week_min, line.hours_per_week_max) == (9, 12)
    assert line.offers_evening is True
    assert hope.slug == "hope-recovery-evening-iop-jackson-ms"  # the address stays put
    # Place fields are the listing's curation; a line's fields are the line's.
    assert hope.curated_fields == ["name"]
    assert set(line.curated_fields) == {
        "payment_options",
        "hours_per_week_min",
        "hours_per_week_max",
        "offers_evening",
    }

    # A later edit adds to the list; it never forgets earlier curation.
    data = post_data_from_form(curator_client.get(change_url(hope)))
    data["city"] = "Ridgeland"
    data["zip"] = "39157"
    data["lines-0-populations"] = []
    curator_client.post(change_url(hope), data)
    hope.refresh_from_db()
    line = line_of(hope)
    assert {"name", "city", "zip"} <= set(hope.curated_fields)
    assert "state" not in hope.curated_fields
    assert {"payment_options", "populations", "offers_evening"} <= set(line.curated_fields)
    assert codes(line.populations) == []


def test_change_form_rejects_bad_input_without_saving(curator_client, listings):
    hope = listings["hope"]
    data = post_data_from_form(curator_client.get(change_url(hope)))
    data.update(zip="3920")
    data.update({"lines-0-hours_per_week_min": "20", "lines-0-hours_per_week_max": "9"})
    response = curator_client.post(change_url(hope), data)
    assert response.status_code == 200
    assert "zip" in response.context["adminform"].form.errors
    line_errors = inline_forms(response).forms[0].errors
    assert line_errors["hours_per_week_max"] == ["The maximum hours must be at least the minimum."]
    assert "The maximum hours must be at least the minimum." in response.content.decode()
    hope.refresh_from_db()
    assert hope.zip == "39201"
    assert hope.curated_fields == []
    assert line_of(hope).hours_per_week_min is None


def test_line_hours_min_above_max_alone_is_a_form_error(curator_client, listings):
    hope = listings["hope"]
    data = post_data_from_form(curator_client.get(change_url(hope)))
    data.update({"lines-0-hours_per_week_min": "12", "lines-0-hours_per_week_max": "9"})
    response = curator_client.post(change_url(hope), data)
    assert response.status_code == 200
    assert "hours_per_week_max" in inline_forms(response).forms[0].errors
    # Equal is fine.
    data["lines-0-hours_per_week_max"] = "12"
    assert curator_client.post(change_url(hope), data).status_code == 302
    line = line_of(hope)
    assert (line.hours_per_week_min, line.hours_per_week_max) == (12, 12)


def test_term_choices_on_the_form_are_limited_to_their_vocabulary(curator_client, listings):
    response = curator_client.get(change_url(listings["hope"]))
    form = response.context["adminform"].form
    line_form = inline_forms(response).forms[0]
    assert set(line_form.fields["payment_options"].queryset.values_list("group", flat=True)) == {
        "payment"
    }
    assert set(line_form.fields["approaches"].queryset.values_list("group", flat=True)) == {
        "approach"
    }
    assert set(form.fields["ownership"].queryset.values_list("group", flat=True)) == {"ownership"}
    # The place form no longer carries a line's vocabularies or schedule.
    assert not {"payment_options", "hours_per_week_min"} & set(form.fields)


def test_setting_verified_date_in_the_form_records_who_verified(curator_client, curator, listings):
    blue = listings["blue"]
    data = post_data_from_form(curator_client.get(change_url(blue)))
    data["verified_at"] = timezone.localdate().isoformat()
    response = curator_client.post(change_url(blue), data)
    assert response.status_code == 302
    blue.refresh_from_db()
    assert blue.verified_at == timezone.localdate()
    assert blue.verified_by == curator
    assert {"verified_at", "verified_by"} <= set(blue.curated_fields)


def test_curator_can_add_a_listing(curator_client, terms):
    add_url = reverse("admin:facilities_facility_add")
    page = curator_client.get(add_url)
    # A new listing comes with the one line it must have, substance use to start with.
    assert len(inline_forms(page).forms) == 1
    data = post_data_from_form(page)
    assert data["lines-0-kind"] == "SA"
    data.update(
        name="New Dawn IOP",
        city="Hattiesburg",
        state="MS",
        zip="39401",
        ownership=str(terms("ownership", "PVTN").pk),
        status="draft",
    )
    data["lines-0-levels_of_care"] = [str(terms("level_of_care", "OIT").pk)]
    response = curator_client.post(add_url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    facility = Facility.objects.get(name="New Dawn IOP")
    assert facility.source == "manual"
    assert facility.slug == "new-dawn-iop-hattiesburg-ms"
    line = line_of(facility, "SA")
    assert codes(line.levels_of_care) == ["OIT"]
    assert line.curated_fields == ["levels_of_care"]  # typed by a curator


def test_a_listing_added_without_touching_its_line_still_gets_it(curator_client):
    add_url = reverse("admin:facilities_facility_add")
    data = post_data_from_form(curator_client.get(add_url))
    data.update(name="Bare Listing", city="Oxford", state="MS", zip="38655", status="draft")
    response = curator_client.post(add_url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    facility = Facility.objects.get(name="Bare Listing")
    assert list(facility.lines.values_list("kind", flat=True)) == ["SA"]


def test_a_listing_cannot_be_added_with_its_line_removed(superuser_client):
    add_url = reverse("admin:facilities_facility_add")
    data = post_data_from_form(superuser_client.get(add_url))
    data.update(name="No Lines", city="Oxford", state="MS", zip="38655", status="draft")
    data["lines-0-DELETE"] = "on"
    response = superuser_client.post(add_url, data)
    assert response.status_code == 200
    assert "keeps at least one service line" in str(inline_forms(response).non_form_errors())
    assert not Facility.objects.filter(name="No Lines").exists()


# Service lines on the listing's page (ServiceLineInline)


def selected_in(html, name):
    """The labels of the options selected in the rendered <select name=...>."""
    select = re.search(rf'<select name="{name}".*?</select>', html, re.DOTALL).group(0)
    return re.findall(r"<option value=\"\d+\" selected>([^<]*)</option>", select)


def test_change_form_shows_each_line_with_its_terms_and_change_link(
    curator_client, listings, terms
):
    river = listings["river"]
    response = curator_client.get(change_url(river))
    assert response.status_code == 200
    formset = inline_forms(response)
    kinds = [form.instance.kind for form in formset.forms]
    assert kinds == ["SA", "MH"]  # substance use first
    html = response.content.decode()
    assert "Substance use treatment" in html
    assert "Mental health treatment" in html
    for line in river.lines.all():
        assert change_url(line) in html  # the line's own page: its history
    # Each line's own terms are selected in its own field.
    assert selected_in(html, "lines-0-levels_of_care") == [terms("level_of_care", "OIT").label]
    assert selected_in(html, "lines-1-levels_of_care") == [terms("level_of_care", "ORT").label]
    assert selected_in(html, "lines-1-payment_options") == [terms("payment", "PI").label]
    # Two lines of two kinds: there is no room for a third.
    assert formset.max_num == 2


def test_curator_adds_a_mental_health_line(curator_client, curator, listings, terms):
    hope = listings["hope"]
    substance_use_entries = line_of(hope, "SA").history.count()
    page = curator_client.get(change_url(hope))
    data = post_data_from_form(page)
    # What the "Add another" button does: one more form, the next index.
    data["lines-TOTAL_FORMS"] = "2"
    data.update(
        {
            "lines-1-kind": "MH",
            "lines-1-facility": str(hope.pk),
            "lines-1-id": "",
            "lines-1-seen_version": "",
            "lines-1-levels_of_care": [str(terms("level_of_care", "ORT").pk)],
            "lines-1-payment_options": [str(terms("payment", "MD").pk)],
        }
    )
    response = curator_client.post(change_url(hope), data)
    assert response.status_code == 302, inline_forms(response).errors
    mental = line_of(hope, "MH")
    assert codes(mental.levels_of_care) == ["ORT"]
    assert codes(mental.payment_options) == ["MD"]
    assert set(mental.curated_fields) == {"levels_of_care", "payment_options"}
    entry = mental.history.get()
    assert (entry.history_type, entry.history_user) == ("+", curator)
    assert [entry.term.code for entry in entry.payment_options.all()] == ["MD"]
    # The substance use line was not touched.
    assert line_of(hope, "SA").curated_fields == []
    assert line_of(hope, "SA").history.count() == substance_use_entries


def test_a_second_line_of_the_same_kind_is_a_form_error(curator_client, listings, terms):
    hope = listings["hope"]
    data = post_data_from_form(curator_client.get(change_url(hope)))
    data["lines-TOTAL_FORMS"] = "2"
    data.update(
        {
            "lines-1-kind": "SA",
            "lines-1-facility": str(hope.pk),
            "lines-1-levels_of_care": [str(terms("level_of_care", "ORT").pk)],
        }
    )
    response = curator_client.post(change_url(hope), data)
    assert response.status_code == 200
    errors = inline_forms(response).forms[1].errors
    assert errors["kind"] == [
        "This listing already has a substance use treatment line: each kind of program is "
        "listed once. Edit that line instead."
    ]
    assert "already has a substance use treatment line" in response.content.decode()
    assert hope.lines.count() == 1


def test_turning_one_line_into_the_kind_of_the_other_is_a_form_error(curator_client, listings):
    river = listings["river"]
    data = post_data_from_form(curator_client.get(change_url(river)))
    data["lines-1-kind"] = "SA"  # the mental health line
    response = curator_client.post(change_url(river), data)
    assert response.status_code == 200
    assert "kind" in inline_forms(response).forms[1].errors
    assert sorted(river.lines.values_list("kind", flat=True)) == ["MH", "SA"]


def test_two_new_lines_of_one_kind_are_a_form_error(curator_client, terms):
    add_url = reverse("admin:facilities_facility_add")
    data = post_data_from_form(curator_client.get(add_url))
    data.update(name="Twice", city="Oxford", state="MS", zip="38655", status="draft")
    data["lines-TOTAL_FORMS"] = "2"
    data.update({"lines-1-kind": "SA", "lines-1-offers_evening": "on"})
    data["lines-0-offers_daytime"] = "on"
    response = curator_client.post(add_url, data)
    assert response.status_code == 200
    assert "kind" in inline_forms(response).forms[1].errors
    assert not Facility.objects.filter(name="Twice").exists()


def test_the_last_line_cannot_be_removed(superuser_client, listings):
    hope = listings["hope"]
    data = post_data_from_form(superuser_client.get(change_url(hope)))
    data["lines-0-DELETE"] = "on"
    response = superuser_client.post(change_url(hope), data)
    assert response.status_code == 200
    assert "keeps at least one service line" in response.content.decode()
    assert hope.lines.count() == 1


def test_one_of_two_lines_can_be_removed_by_a_superuser(superuser_client, listings):
    river = listings["river"]
    mental = line_of(river, "MH")
    data = post_data_from_form(superuser_client.get(change_url(river)))
    data["lines-1-DELETE"] = "on"
    response = superuser_client.post(change_url(river), data)
    assert response.status_code == 302, inline_forms(response).errors
    assert list(river.lines.values_list("kind", flat=True)) == ["SA"]
    assert ServiceLine.history.filter(id=mental.pk).latest().history_type == "-"


def test_a_lines_own_delete_page_keeps_the_last_line(superuser_client, listings):
    hope_line = line_of(listings["hope"])
    delete_url = reverse("admin:facilities_serviceline_delete", args=[hope_line.pk])
    response = superuser_client.post(delete_url, {"post": "yes"}, follow=True)
    assert "keeps at least one service line" in response.content.decode()
    assert ServiceLine.objects.filter(pk=hope_line.pk).exists()

    mental = line_of(listings["river"], "MH")
    delete_url = reverse("admin:facilities_serviceline_delete", args=[mental.pk])
    assert superuser_client.post(delete_url, {"post": "yes"}).status_code == 302
    assert list(listings["river"].lines.values_list("kind", flat=True)) == ["SA"]


def test_curators_cannot_remove_a_line(curator_client, listings):
    # The next import would bring a line back that its source still lists.
    river = listings["river"]
    page = curator_client.get(change_url(river))
    assert inline_forms(page).can_delete is False
    data = post_data_from_form(page)
    data["lines-1-DELETE"] = "on"
    assert curator_client.post(change_url(river), data).status_code == 302
    assert river.lines.count() == 2


def test_a_lines_own_page_names_its_listing_and_links_back(curator_client, listings):
    line = line_of(listings["river"], "MH")
    response = curator_client.get(change_url(line))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Riverbend Counseling: Mental health treatment" in html
    assert change_url(listings["river"]) in html
    assert reverse("admin:facilities_serviceline_history", args=[line.pk]) in html
    # Lines are added on their listing and not listed on the admin index.
    assert curator_client.get(reverse("admin:facilities_serviceline_add")).status_code == 403
    index = curator_client.get(reverse("admin:index")).content.decode()
    assert reverse("admin:facilities_serviceline_changelist") not in index


def test_a_lines_own_page_saves_and_refuses_the_kind_of_another_line(
    curator_client, listings, terms
):
    line = line_of(listings["river"], "MH")
    data = post_data_from_form(curator_client.get(change_url(line)))
    data["kind"] = "SA"
    response = curator_client.post(change_url(line), data)
    assert response.status_code == 200
    assert "kind" in response.context["adminform"].form.errors

    data = post_data_from_form(curator_client.get(change_url(line)))
    data["payment_options"] = [str(terms("payment", "SF").pk)]
    response = curator_client.post(change_url(line), data)
    assert response.status_code == 302
    line.refresh_from_db()
    assert codes(line.payment_options) == ["SF"]
    assert line.curated_fields == ["payment_options"]


def test_fictional_listing_says_so_on_its_change_form(curator_client, listings):
    response = curator_client.get(change_url(listings["demo"]))
    assert "Demo data: this listing is fictional" in response.content.decode()
    real = curator_client.get(change_url(listings["hope"]))
    assert "this listing is fictional" not in real.content.decode()


def test_raw_source_record_is_shown_escaped_and_read_only(curator_client, listings):
    hope = listings["hope"]
    Facility.objects.filter(pk=hope.pk).update(
        source_record={"name1": "<script>alert(1)</script>", "frid": "abc"}, source_key="abc"
    )
    response = curator_client.get(change_url(hope))
    content = response.content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in content
    assert "<script>alert(1)</script>" not in content
    form = response.context["adminform"].form
    for name in ("source", "source_key", "source_record", "curated_fields", "verified_by"):
        assert name not in form.fields


def test_bulk_publish_reports_count_and_marks_status_curated(curator_client, listings):
    ids = [listings[key].pk for key in ("hope", "blue", "demo")]
    response = curator_client.post(
        CHANGELIST, {"action": "publish", "_selected_action": ids}, follow=True
    )
    assert "2 listings were published. 1 was already published." in messages_of(response)
    statuses = dict(Facility.objects.filter(pk__in=ids).values_list("name", "status"))
    assert set(statuses.values()) == {"published"}
    assert "status" in Facility.objects.get(pk=listings["blue"].pk).curated_fields
    # The one that was already published was not touched.
    assert Facility.objects.get(pk=listings["hope"].pk).curated_fields == []


def test_bulk_archive_hides_instead_of_deleting(curator_client, listings):
    ids = [listings["hope"].pk, listings["river"].pk]
    response = curator_client.post(
        CHANGELIST, {"action": "archive", "_selected_action": ids}, follow=True
    )
    assert "2 listings were archived." in messages_of(response)
    assert Facility.objects.filter(pk__in=ids, status="archived").count() == 2
    assert Facility.objects.published().count() == 0
    assert Facility.objects.count() == 4


def test_bulk_mark_verified_today(curator_client, curator, listings):
    ids = [listings["river"].pk, listings["blue"].pk]
    response = curator_client.post(
        CHANGELIST, {"action": "mark_verified_today", "_selected_action": ids}, follow=True
    )
    assert "2 listings were marked verified today." in messages_of(response)
    for facility in Facility.objects.filter(pk__in=ids):
        assert facility.verified_at == timezone.localdate()
        assert facility.verified_by == curator
        assert not facility.is_stale
        assert {"verified_at", "verified_by"} <= set(facility.curated_fields)
    # The stale filter no longer finds the re-verified listing.
    stale = curator_client.get(CHANGELIST, {"verification": "stale"})
    assert stale.context["cl"].result_count == 0


def test_changelist_query_count_does_not_grow_with_listings(curator_client, terms):
    def add_listings(count, start):
        for number in range(start, start + count):
            make_facility(
                name=f"Listing {number}",
                zip="39201",
                ownership=terms("ownership", "PVTP"),
                verified_by=None,
                verified_at=timezone.localdate(),
                lines={
                    "SA": {"levels": ["OIT"], "payments": ["MD"]},
                    "MH": {"levels": ["ORT"], "payments": ["PI"]},
                },
            )

    def count_queries(params=None):
        with CaptureQueriesContext(connection) as captured:
            response = curator_client.get(CHANGELIST, params or {})
        assert response.status_code == 200
        return len(captured), response.context["cl"].result_count

    filtered = {"lines__payment_options__id__exact": terms("payment", "MD").pk}
    add_listings(3, 0)
    count_queries()  # warm per-process caches (content types, sessions)
    with_three, shown = count_queries()
    assert shown == 3
    with_three_filtered, shown = count_queries(filtered)
    assert shown == 3
    add_listings(27, 3)
    with_thirty, shown = count_queries()
    assert shown == 30
    with_thirty_filtered, shown = count_queries(filtered)
    assert shown == 30
    assert with_thirty == with_three
    assert with_thirty_filtered == with_three_filtered
    assert with_three < 30


def test_listing_page_reads_its_lines_vocabularies_once_for_all_lines(curator_client):
    def page_queries(facility):
        with CaptureQueriesContext(connection) as captured:
            assert curator_client.get(change_url(facility)).status_code == 200
        return len(captured)

    one = make_facility(name="One Line")
    two = make_facility(name="Two Lines", lines={"SA": {}, "MH": {}})
    page_queries(one)  # warm per-process caches
    # A second line costs its version check, not a query per vocabulary (13).
    assert page_queries(two) - page_queries(one) <= 2


# Vocabulary terms


def test_term_code_is_read_only_once_the_term_exists(curator_client, terms):
    medicaid = terms("payment", "MD")
    response = curator_client.get(change_url(medicaid))
    form = response.context["adminform"].form
    assert "code" not in form.fields
    assert "group" not in form.fields
    data = post_data_from_form(response)
    data.update(label="Medicaid (any state plan)", code="XX", group="approach")
    response = curator_client.post(change_url(medicaid), data)
    assert response.status_code == 302
    medicaid.refresh_from_db()
    assert (medicaid.group, medicaid.code) == ("payment", "MD")
    assert medicaid.label == "Medicaid (any state plan)"


def test_curator_can_extend_a_vocabulary(curator_client):
    add_url = reverse("admin:facilities_term_add")
    data = post_data_from_form(curator_client.get(add_url))
    data.update(group="language", code="HMN", label="Hmong", description="Services in Hmong.")
    response = curator_client.post(add_url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Term.objects.filter(group="language", code="HMN", label="Hmong").exists()


def test_term_parent_must_be_in_the_same_vocabulary(curator_client, terms):
    add_url = reverse("admin:facilities_term_add")
    data = post_data_from_form(curator_client.get(add_url))
    data.update(group="ownership", code="OTHFED", label="Other federal")
    data["parent"] = str(terms("payment", "MD").pk)
    response = curator_client.post(add_url, data)
    assert response.status_code == 200
    assert "parent" in response.context["adminform"].form.errors
    data["parent"] = str(terms("ownership", "FED").pk)
    assert curator_client.post(add_url, data).status_code == 302
    assert Term.objects.get(group="ownership", code="OTHFED").parent.code == "FED"


def test_term_list_filters_by_group_and_searches_codes(curator_client):
    url = reverse("admin:facilities_term_changelist")
    by_group = curator_client.get(url, {"group__exact": "assistance"})
    assert {term.code for term in by_group.context["cl"].result_list} == {"SS", "PA"}
    by_code = curator_client.get(url, {"q": "PVTN"})
    assert [term.code for term in by_code.context["cl"].result_list] == ["PVTN"]


# The "report a problem" queue


@pytest.fixture
def reports(listings):
    return [
        ProblemReport.objects.create(
            facility=listings["hope"],
            category="phone",
            message="The number <b>rings</b> <script>alert('x')</script> a fax machine.",
            contact="<img src=x onerror=alert(1)>",
        ),
        ProblemReport.objects.create(
            facility=listings["river"], category="closed", message="Closed last spring."
        ),
    ]


def test_report_queue_lists_and_filters(curator_client, reports):
    url = reverse("admin:facilities_problemreport_changelist")
    response = curator_client.get(url)
    assert response.status_code == 200
    content = response.content.decode()
    assert change_url(reports[0].facility) in content  # links to the listing
    assert "<script>alert" not in content
    closed = curator_client.get(url, {"category__exact": "closed"})
    assert [report.pk for report in closed.context["cl"].result_list] == [reports[1].pk]


def test_report_text_is_escaped_and_read_only(curator_client, reports):
    response = curator_client.get(change_url(reports[0]))
    content = response.content.decode()
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in content
    assert "<script>alert('x')</script>" not in content
    assert "<img src=x" not in content
    form = response.context["adminform"].form
    assert set(form.fields) == {"status", "curator_note"}


def test_curator_resolves_a_report_from_its_form(curator_client, curator, reports):
    report = reports[0]
    data = post_data_from_form(curator_client.get(change_url(report)))
    data.update(status="resolved", curator_note="Called; number fixed.")
    assert curator_client.post(change_url(report), data).status_code == 302
    report.refresh_from_db()
    assert report.status == "resolved"
    assert report.curator_note == "Called; number fixed."
    assert report.resolved_by == curator
    assert report.resolved_at is not None


@pytest.mark.parametrize(
    "action, status, message",
    [
        ("mark_resolved", "resolved", "2 reports were marked resolved."),
        ("dismiss", "dismissed", "2 reports were dismissed."),
    ],
)
def test_report_bulk_actions(curator_client, curator, reports, action, status, message):
    url = reverse("admin:facilities_problemreport_changelist")
    ids = [report.pk for report in reports]
    response = curator_client.post(url, {"action": action, "_selected_action": ids}, follow=True)
    assert message in messages_of(response)
    for report in ProblemReport.objects.filter(pk__in=ids):
        assert report.status == status
        assert report.resolved_by == curator
        assert report.resolved_at is not None
    only_new = curator_client.get(url, {"status__exact": "new"})
    assert only_new.context["cl"].result_count == 0


def test_listing_form_links_to_its_open_reports(curator_client, reports):
    response = curator_client.get(change_url(reports[0].facility))
    assert "1 open, 1 in all" in response.content.decode()


@pytest.mark.parametrize(
    "params",
    [
        {"lines__levels_of_care__id__exact": "abc"},
        {"lines__payment_options__id__exact": "99999999"},
        {"lines__populations__isnull": "maybe"},
        {"verification": "bogus"},
        {"status__exact": "nonsense"},
        {"o": "99"},
        {"q": "'; drop table --"},
    ],
)
def test_bad_changelist_parameters_never_give_a_server_error(curator_client, listings, params):
    response = curator_client.get(CHANGELIST, params)
    assert response.status_code in {200, 302}


def test_state_filter_offers_only_states_with_listings(curator_client, listings):
    response = curator_client.get(CHANGELIST)
    spec = next(s for s in response.context["cl"].filter_specs if s.title == "state")
    assert list(spec.lookup_choices) == ["MS", "VA"]


@pytest.mark.parametrize(
    "field, term, expected",
    [
        # MI is military insurance in payment and motivational interviewing in approaches.
        ("payment_options", "MI", {"Military insurance (e.g. TRICARE)"}),
        ("approaches", "motivational", {"Motivational interviewing"}),
        ("payment_options", "motivational", set()),
    ],
)
def test_vocabulary_autocomplete_stays_inside_the_fields_group(
    curator_client, terms, field, term, expected
):
    # What a line's autocomplete widget asks (ServiceLineInline.autocomplete_fields).
    response = curator_client.get(
        reverse("admin:autocomplete"),
        {"app_label": "facilities", "model_name": "serviceline", "field_name": field, "term": term},
    )
    assert response.status_code == 200
    labels = {result["text"] for result in response.json()["results"]}
    assert expected <= labels
    group = ServiceLine._meta.get_field(field).remote_field.limit_choices_to["group"]
    ids = {int(result["id"]) for result in response.json()["results"]}
    assert set(Term.objects.filter(pk__in=ids).values_list("group", flat=True)) <= {group}
    if not expected:
        assert labels == set()


def test_opening_a_vocabulary_autocomplete_lists_all_its_terms(curator_client):
    response = curator_client.get(
        reverse("admin:autocomplete"),
        {"app_label": "facilities", "model_name": "serviceline", "field_name": "payment_options"},
    )
    codes = set(
        Term.objects.filter(pk__in=[r["id"] for r in response.json()["results"]]).values_list(
            "code", flat=True
        )
    )
    assert codes == set(Term.objects.filter(group="payment").values_list("code", flat=True))


def test_the_line_form_asks_the_autocomplete_for_the_lines_field(curator_client, listings):
    html = curator_client.get(change_url(listings["hope"])).content.decode()
    assert 'data-model-name="serviceline"' in html
    assert 'data-field-name="payment_options"' in html


def test_curator_placing_the_building_clears_the_approximate_location(curator_client, listings):
    hope = listings["hope"]
    Facility.objects.filter(pk=hope.pk).update(location_approximate=True)
    data = post_data_from_form(curator_client.get(change_url(hope)))
    data["latitude"], data["longitude"] = "32.3001", "-90.1802"
    response = curator_client.post(change_url(hope), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    hope.refresh_from_db()
    assert (hope.latitude, hope.longitude) == (32.3001, -90.1802)
    assert hope.location_approximate is False
    assert {"latitude", "longitude", "location_approximate"} <= set(hope.curated_fields)
