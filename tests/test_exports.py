"""CSV rows shared by the page download and the API."""

import csv
import io

import pytest

from facilities.exports import CSV_COLUMNS, csv_lines
from facilities.models import Facility

from .factories import make_facility

pytestmark = pytest.mark.django_db


def rows():
    text = "".join(csv_lines(Facility.objects.published().order_by("name")))
    return list(csv.DictReader(io.StringIO(text)))


def test_csv_has_one_row_per_facility_with_codes_joined():
    make_facility(name="A", ownership="VAMC", payments=["MD", "PI"], assistance=["SS"])
    make_facility(name="B")
    exported = rows()
    assert [row["name"] for row in exported] == ["A", "B"]
    assert set(exported[0]) == set(CSV_COLUMNS)
    assert sorted(exported[0]["payment_options"].split(";")) == ["MD", "PI"]
    assert exported[0]["ownership"] == "VAMC"
    assert exported[0]["financial_assistance"] == "true"
    assert exported[1]["financial_assistance"] == "false"


def test_formula_like_text_is_neutralised_for_spreadsheets():
    make_facility(name='=HYPERLINK("http://evil")')
    assert rows()[0]["name"].startswith("'=")


def download(client, query=""):
    response = client.get(f"/facilities/export.csv?{query}")
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


def api_csv(client, query=""):
    response = client.get(f"/api/v1/facilities/?format=csv&{query}")
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


def test_the_page_download_has_labels_beside_codes_and_the_api_keeps_codes(client):
    make_facility(name="A", payments=["MD", "PI"], populations=["VET"], languages=["SP"])
    (row,) = download(client)
    # A case manager reads words; the code column stays for those who filter on it.
    assert row["payment_options"] == "PI;MD"
    assert row["payment_options_labels"] == "Private health insurance; Medicaid"
    assert row["populations_labels"] == "Veterans"
    assert row["languages_labels"] == "Spanish"
    assert row["levels_of_care_labels"] == "Intensive outpatient (IOP)"
    header = list(row)
    assert header.index("payment_options_labels") == header.index("payment_options") + 1
    (api_row,) = api_csv(client, "level_of_care=OIT")
    assert api_row["payment_options"] == "PI;MD"
    assert not any(column.endswith("_labels") for column in api_row)


def test_every_csv_says_whether_a_listing_is_fictional(client):
    make_facility(name="Demo place", source=Facility.Source.DEMO)
    make_facility(name="Real place")
    for exported in (download(client), api_csv(client, "level_of_care=OIT")):
        fictional = {row["name"]: row["fictional"] for row in exported}
        assert fictional == {"Demo place": "true", "Real place": "false"}


def test_a_label_that_looks_like_a_formula_is_neutralised(client):
    from facilities.models import Term

    Term.objects.filter(group="payment", code="MD").update(label="=cmd|' /C calc'!A0")
    make_facility(name="A", payments=["MD"])
    (row,) = download(client)
    assert row["payment_options_labels"].startswith("'=")
