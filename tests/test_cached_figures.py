"""Cached figures (vocabularies, counts, summaries) follow every change, in every process.

They are cached under the data version (facilities/data_version.py), a number in the
database raised in the same transaction as any change to listings or vocabularies.
"""

import csv
import io

import pytest
from django.db import connection, transaction
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from facilities import data_version, geo, rows, selectors
from facilities.models import DataVersion, Facility, Term

from .factories import add_line, line_of, make_facility, term

pytestmark = pytest.mark.django_db

LIST = "/api/v1/facilities/"


def results_count(client, params):
    return client.get("/facilities/", params).context["page"].paginator.count


def test_a_new_listing_is_counted_at_once(client):
    make_facility(state="MS")
    params = {"state": "MS"}
    assert results_count(client, params) == 1  # counted, and now cached
    assert results_count(client, params) == 1
    make_facility(state="MS")
    assert results_count(client, params) == 2
    assert client.get(LIST, params).json()["count"] == 2


def test_a_vocabulary_change_is_seen_at_once_by_the_search_page(client):
    make_facility(payments=["MD"])
    client.get("/facilities/")  # caches the vocabulary
    medicaid = term("payment", "MD")
    medicaid.label = "Medicaid (any state plan)"
    medicaid.save()
    body = client.get("/facilities/").content.decode()
    assert "Medicaid (any state plan)" in body


def test_the_state_page_follows_saves_deletes_and_vocabulary_links(client):
    first = make_facility(state="MS", payments=["PI"])
    figures = client.get("/states/ms/").context["figures"]
    assert figures["facility_count"] == 1 and "MD" not in figures["payment_options"]

    line_of(first).payment_options.add(term("payment", "MD"))  # m2m_changed, no save()
    assert client.get("/states/ms/").context["figures"]["payment_options"]["MD"] == 1

    second = make_facility(state="MS", co_occurring=True)
    assert client.get("/states/ms/").context["figures"]["co_occurring_count"] == 1

    second.delete()
    figures = client.get("/states/ms/").context["figures"]
    assert figures["facility_count"] == 1 and figures["co_occurring_count"] == 0


def test_bulk_writes_change_the_figures_too(client):
    make_facility(state="MS")
    draft = make_facility(state="MS", status=Facility.Status.DRAFT)
    home = client.get("/")
    assert {row["code"]: row["iop"] for row in home.context["states"]}["MS"] == 1
    # An admin bulk action: QuerySet.update(), no save() and no signals.
    Facility.objects.filter(pk=draft.pk).update(status=Facility.Status.PUBLISHED)
    home = client.get("/")
    assert {row["code"]: row["iop"] for row in home.context["states"]}["MS"] == 2
    summary = client.get("/api/v1/states/MS/summary/", {"level_of_care": "OIT"}).json()
    assert summary["facility_count"] == 2


def test_the_api_state_summary_follows_a_changed_listing(client):
    facility = make_facility(state="MS", ownership="PVTP")
    path = "/api/v1/states/MS/summary/"
    assert client.get(path).json()["ownership"] == {"PVTP": 1}
    facility.ownership = term("ownership", "PVTN")
    facility.save()
    assert client.get(path).json()["ownership"] == {"PVTN": 1}


def test_a_change_made_by_another_process_is_seen_through_the_database(client):
    facility = make_facility(state="MS")
    assert client.get("/states/ms/").context["figures"]["facility_count"] == 1
    # Another gunicorn process: it changes the rows and raises the number in the
    # database; nothing happens in this process (no signal, per-process cache).
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE facilities_facility SET status = 'archived' WHERE id = %s",
            [facility.pk],
        )
    stale = client.get("/states/ms/").context["figures"]["facility_count"]
    assert stale == 1  # raw SQL that does not raise the number is not seen...
    DataVersion.objects.filter(pk=data_version.ROW_ID).update(
        version=F("version") + 1, changed_at=timezone.now()
    )
    assert client.get("/states/ms/").context["figures"]["facility_count"] == 0  # ...this is


def test_a_rolled_back_change_leaves_no_key_a_later_change_could_reuse():
    before = data_version.key()
    with transaction.atomic():
        data_version.bump()
        inside = data_version.key()
        transaction.set_rollback(True)
    assert data_version.key() == before
    data_version.bump()
    assert data_version.key() not in (before, inside)


def test_the_version_survives_a_flushed_table():
    DataVersion.objects.all().delete()
    assert data_version.key() == "0.0"
    data_version.bump()
    assert DataVersion.objects.get(pk=data_version.ROW_ID).version == 1


def test_one_request_reads_the_version_once(client):
    make_facility(payments=["MD"])
    client.get("/facilities/", {"payment": "MD"})
    with CaptureQueriesContext(connection) as captured:
        client.get("/facilities/", {"payment": "MD"})
    reads = [q for q in captured if DataVersion._meta.db_table in q["sql"]]
    assert len(reads) == 1


# --- Terms fetched with the listings --------------------------------------------------------


def test_terms_come_in_vocabulary_order_in_one_query():
    facility = make_facility(payments=["SF", "MD", "PI"], populations=["VET"])
    add_line(facility, "MH", payments=["MC", "MD"])
    expected_sa = list(line_of(facility).payment_options.order_by("sort_order", "label"))
    expected_all = list(
        Term.objects.filter(group="payment", code__in=["SF", "MD", "PI", "MC"]).order_by(
            "sort_order", "label"
        )
    )
    rows.read_models(Facility.objects.all(), rows.LIST_TERM_FIELDS)  # caches the terms
    with CaptureQueriesContext(connection) as captured:
        (listing,) = rows.read_models(
            Facility.objects.filter(pk=facility.pk), rows.LIST_TERM_FIELDS
        )
        sa, mh = listing.service_lines
        payments = list(sa.payment_options.all())
        populations = [t.code for t in sa.populations.all()]
        flat_payments = listing.offered["payment_options"]
    assert (sa.kind, mh.kind) == ("SA", "MH")
    assert payments == expected_sa and populations == ["VET"]
    assert [t.code for t in mh.payment_options.all()] == ["MD", "MC"]
    # The flat list: each term once, in vocabulary order.
    assert flat_payments == expected_all
    assert [t.label for t in payments] == [t.label for t in expected_sa]
    # The version, the listing, then one query for its lines and all four fields' terms.
    assert len(captured) == 3, [q["sql"] for q in captured]


def test_fetched_terms_refuse_what_would_need_a_query():
    make_facility(payments=["MD"])
    (listing,) = rows.read_models(Facility.objects.all(), rows.LIST_TERM_FIELDS)
    (line,) = listing.service_lines
    assert line.payment_options.count() == 1 and line.payment_options.exists()
    with pytest.raises(AttributeError):
        line.payment_options.filter(code="MD")


def test_csv_export_queries_do_not_grow_with_the_rows(client):
    def export_queries():
        with CaptureQueriesContext(connection) as captured:
            response = client.get("/facilities/export.csv")
            text = b"".join(response.streaming_content).decode()
        return len(captured), list(csv.DictReader(io.StringIO(text)))

    make_facility(payments=["MD", "PI"], populations=["VET"])
    one, rows = export_queries()
    assert set(rows[0]["payment_options"].split(";")) == {"MD", "PI"}
    for _ in range(30):
        make_facility(payments=["MD"], assistance=["SS"])
    many, rows = export_queries()
    assert len(rows) == 31 and one == many
    assert sum(row["financial_assistance"] == "true" for row in rows) == 30


def test_payment_codes_in_the_csv_follow_the_vocabulary_order(client):
    make_facility(payments=["SF", "PI", "MD"])
    response = client.get("/facilities/export.csv")
    row = next(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    order = [t.code for t in Term.objects.filter(group="payment").order_by("sort_order")]
    codes = row["payment_options"].split(";")
    assert codes == sorted(codes, key=order.index)


# --- Smaller things the hot paths rely on ----------------------------------------------


def test_state_filter_needs_no_distinct():
    qs = selectors.published_facilities()
    from facilities.search.filters import FacilityFilterSet

    filterset = FacilityFilterSet({"state": ["MS", "VA"]}, queryset=qs)
    assert filterset.is_valid()
    assert "DISTINCT" not in str(filterset.qs.query).upper()


def test_facility_urls_match_reverse_also_under_a_script_prefix():
    from django.urls import reverse, set_script_prefix

    facility = make_facility(name="Hope")
    assert facility.get_absolute_url() == reverse("facilities:detail", args=[facility.slug])
    set_script_prefix("/finder/")
    try:
        assert facility.get_absolute_url() == f"/finder/facilities/{facility.slug}/"
    finally:
        set_script_prefix("/")


def test_the_committed_zip_table_holds_every_zip_the_package_knows():
    """facilities/zip_centroids.csv.gz is the zipcodes package's data (make zip-table)."""
    import zipcodes

    def located(row):
        try:
            return (float(row["lat"]), float(row["long"]), row["city"], row["state"])
        except (TypeError, ValueError):
            return None

    every = {row["zip_code"]: located(row) for row in zipcodes.list_all()}
    expected = {code: row for code, row in every.items() if row}
    assert geo._zip_table() == expected, "stale: run make zip-table"


@pytest.mark.parametrize("params", [{}, {"near": "39201", "radius": "50"}])
def test_a_deep_page_holds_the_same_listings_as_a_plain_offset(client, params, monkeypatch):
    for number in range(25):
        make_facility(name=f"Listing {number:02}", latitude=32.3 + number / 100)
    expected = [
        row["id"]
        for row in client.get(LIST, {**params, "page": 3, "page_size": 5}).json()["results"]
    ]
    monkeypatch.setattr(selectors.CachedCountPaginator, "deep_page_offset", 5)
    with CaptureQueriesContext(connection) as captured:
        body = client.get(LIST, {**params, "page": 3, "page_size": 5}).json()
    assert [row["id"] for row in body["results"]] == expected and len(expected) == 5
    selects = [q["sql"].split(" FROM ")[0] for q in captured if "OFFSET 10" in q["sql"]]
    # The skipped rows are read from an index: the offset query selects no names.
    assert selects and all('"facilities_facility"."name"' not in sql for sql in selects)
    page = client.get("/facilities/", {**params, "page": 2}).context["page"]
    assert len(page.object_list) == 5 and page.number == 2
