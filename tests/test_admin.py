"""Admin as a curation tool, exercised the way a curator uses it: list, filter, edit, act."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from facilities.models import Facility, ProblemReport, Term
from tests.admin_pages import post_data_from_form

CHANGELIST = reverse("admin:facilities_facility_changelist")


def change_url(obj):
    return reverse(f"admin:facilities_{obj._meta.model_name}_change", args=[obj.pk])


def make_facility(**fields):
    values = {"name": "Hope Recovery", "city": "Jackson", "state": "MS", "zip": "39201"}
    values.update(fields)
    m2m = {name: values.pop(name) for name in list(values) if name in M2M_NAMES}
    facility = Facility.objects.create(**values)
    for name, terms in m2m.items():
        getattr(facility, name).set(terms)
    return facility


M2M_NAMES = {field.name for field in Facility._meta.many_to_many}


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
            levels_of_care=[terms("level_of_care", "OIT")],
            payment_options=[terms("payment", "MD"), terms("payment", "PI")],
            populations=[terms("population", "VET")],
        ),
        "river": make_facility(
            name="Riverbend Counseling",
            city="Oxford",
            state="MS",
            zip="38655",
            ownership=terms("ownership", "PVTP"),
            status="published",
            verified_at=stale,
            levels_of_care=[terms("level_of_care", "OIT"), terms("level_of_care", "ORT")],
            payment_options=[terms("payment", "PI")],
        ),
        "blue": make_facility(
            name="Blue Ridge Behavioral",
            city="Roanoke",
            state="VA",
            zip="24011",
            ownership=terms("ownership", "LCCG"),
            co_occurring=True,
            status="draft",
            payment_options=[terms("payment", "MD")],
            populations=[terms("population", "VET"), terms("population", "WN")],
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
        ({"levels_of_care": ("level_of_care", "OIT")}, {"hope", "river"}),
        ({"levels_of_care": ("level_of_care", "ORT")}, {"river"}),
        ({"payment_options": ("payment", "MD")}, {"hope", "blue"}),
        ({"payment_options": ("payment", "PI")}, {"hope", "river"}),
        ({"populations": ("population", "VET")}, {"hope", "blue"}),
        ({"co_occurring__exact": "1"}, {"hope", "blue"}),
        ({"co_occurring__exact": "0"}, {"river", "demo"}),
        ({"source__exact": "demo"}, {"demo"}),
        ({"source__exact": "manual"}, {"hope", "river", "blue"}),
        ({"state": "MS", "payment_options": ("payment", "MD")}, {"hope"}),
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
    names = {facility.name for facility in response.context["cl"].result_list}
    assert names == {listings[key].name for key in expected}
    assert response.context["cl"].result_count == len(expected)


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
    ownership_groups = {
        Term.objects.get(pk=pk).group for pk, _label in specs["ownership"].lookup_choices
    }
    assert payment_groups == {"payment"}
    assert ownership_groups == {"ownership"}


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
    assert hope.curated_fields == []

    # Each save starts from a freshly loaded page (a stale one is refused: locking.py).
    data = post_data_from_form(curator_client.get(change_url(hope)))
    data["name"] = "Hope Recovery Center"
    data["payment_options"] = [*data["payment_options"], str(terms("payment", "MC").pk)]
    data["hours_per_week_min"], data["hours_per_week_max"] = "9", "12"
    data["offers_evening"] = "on"
    response = curator_client.post(change_url(hope), data)
    assert response.status_code == 302, response.context["adminform"].form.errors

    hope.refresh_from_db()
    assert hope.name == "Hope Recovery Center"
    assert set(hope.payment_options.values_list("code", flat=True)) == {"MD", "PI", "MC"}
    assert (hope.hours_per_week_min, hope.hours_per_week_max) == (9, 12)
    assert hope.offers_evening is True
    assert hope.slug == "hope-recovery-evening-iop-jackson-ms"  # the address stays put
    assert set(hope.curated_fields) == {
        "name",
        "payment_options",
        "hours_per_week_min",
        "hours_per_week_max",
        "offers_evening",
    }

    # A later edit adds to the list; it never forgets earlier curation.
    data = post_data_from_form(curator_client.get(change_url(hope)))
    data["city"] = "Ridgeland"
    data["zip"] = "39157"
    curator_client.post(change_url(hope), data)
    hope.refresh_from_db()
    assert {"name", "payment_options", "city", "zip"} <= set(hope.curated_fields)
    assert "state" not in hope.curated_fields


def test_change_form_rejects_bad_input_without_saving(curator_client, listings):
    hope = listings["hope"]
    data = post_data_from_form(curator_client.get(change_url(hope)))
    data.update(zip="3920", hours_per_week_min="20", hours_per_week_max="9")
    response = curator_client.post(change_url(hope), data)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "zip" in errors
    assert "hours_per_week_max" in errors
    hope.refresh_from_db()
    assert hope.zip == "39201"
    assert hope.curated_fields == []


def test_term_choices_on_the_form_are_limited_to_their_vocabulary(curator_client, listings):
    response = curator_client.get(change_url(listings["hope"]))
    form = response.context["adminform"].form
    assert set(form.fields["payment_options"].queryset.values_list("group", flat=True)) == {
        "payment"
    }
    assert set(form.fields["approaches"].queryset.values_list("group", flat=True)) == {"approach"}
    assert set(form.fields["ownership"].queryset.values_list("group", flat=True)) == {"ownership"}


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
    data = post_data_from_form(curator_client.get(add_url))
    data.update(
        name="New Dawn IOP",
        city="Hattiesburg",
        state="MS",
        zip="39401",
        ownership=str(terms("ownership", "PVTN").pk),
        levels_of_care=[str(terms("level_of_care", "OIT").pk)],
        status="draft",
    )
    response = curator_client.post(add_url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    facility = Facility.objects.get(name="New Dawn IOP")
    assert facility.source == "manual"
    assert facility.slug == "new-dawn-iop-hattiesburg-ms"
    assert list(facility.levels_of_care.values_list("code", flat=True)) == ["OIT"]


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
                levels_of_care=[terms("level_of_care", "OIT")],
                payment_options=[terms("payment", "MD")],
            )

    def count_queries():
        with CaptureQueriesContext(connection) as captured:
            response = curator_client.get(CHANGELIST)
        assert response.status_code == 200
        return len(captured), response.context["cl"].result_count

    add_listings(3, 0)
    count_queries()  # warm per-process caches (content types, sessions)
    with_three, shown = count_queries()
    assert shown == 3
    add_listings(27, 3)
    with_thirty, shown = count_queries()
    assert shown == 30
    assert with_thirty == with_three
    assert with_three < 30


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
        {"levels_of_care__id__exact": "abc"},
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
    response = curator_client.get(
        reverse("admin:autocomplete"),
        {"app_label": "facilities", "model_name": "facility", "field_name": field, "term": term},
    )
    assert response.status_code == 200
    labels = {result["text"] for result in response.json()["results"]}
    assert expected <= labels
    group = Facility._meta.get_field(field).remote_field.limit_choices_to["group"]
    ids = {int(result["id"]) for result in response.json()["results"]}
    assert set(Term.objects.filter(pk__in=ids).values_list("group", flat=True)) <= {group}
    if not expected:
        assert labels == set()


def test_opening_a_vocabulary_autocomplete_lists_all_its_terms(curator_client):
    response = curator_client.get(
        reverse("admin:autocomplete"),
        {"app_label": "facilities", "model_name": "facility", "field_name": "payment_options"},
    )
    codes = set(
        Term.objects.filter(pk__in=[r["id"] for r in response.json()["results"]]).values_list(
            "code", flat=True
        )
    )
    assert codes == set(Term.objects.filter(group="payment").values_list("code", flat=True))


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
