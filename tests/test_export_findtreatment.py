import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from facilities.importers.findtreatment import EXPORTER
from facilities.models import Facility

from .findtreatment_support import SAMPLE, codes, run_import, sample_row, snapshot, write_page

pytestmark = pytest.mark.django_db

MOHR = "region-ten-community-services-board-mohr-center-charlottesville-va"


def export(tmp_path, *args, name="export.json"):
    path = tmp_path / name
    call_command("export_findtreatment", "--output", str(path), *args, stderr=StringIO())
    return path


def test_export_writes_an_export_page_in_the_findtreatment_format(tmp_path):
    run_import(SAMPLE, "--publish")
    page = json.loads(export(tmp_path).read_text())
    assert (page["page"], page["totalPages"], page["recordCount"]) == (1, 1, 12)
    assert page["exporter"] == EXPORTER
    mohr = next(row for row in page["rows"] if row["name2"] == "Mohr Center")
    original = sample_row(1)
    for key in ("frid", "name1", "street1", "city", "state", "zip", "phone", "intake1"):
        assert mohr[key] == original[key], key
    assert (mohr["latitude"], mohr["longitude"], mohr["typeFacility"]) == (
        "38.0282239", "-78.4725231", "SA",
    )  # fmt: skip
    services = {service["f2"]: service["f3"].split("; ") for service in mohr["services"]}
    assert services["FOP"] == ["Local, county, or community government"]
    assert set(services["PAY"]) == {
        "Medicaid",
        "Private health insurance",
        "Cash or self-payment",
        "Federal, or any government funding for substance abuse programs",
    }
    assert services["PYAS"] == ["Sliding fee scale (fee is based on income and other factors)"]
    assert services["SET"] == ["Residential", "Short-term residential"]


def test_import_of_the_export_leaves_the_database_unchanged(tmp_path):
    run_import(SAMPLE, "--publish")
    before = snapshot()
    status, out, _ = run_import(export(tmp_path))
    assert status == 0
    assert "created 0, updated 0, unchanged 12, skipped 0, rejected 0" in out
    assert "unmapped labels 0" in out
    assert snapshot() == before


def test_round_trip_after_curators_edited_listings(tmp_path, terms):
    run_import(SAMPLE, "--publish")
    mohr = Facility.objects.get(slug=MOHR)
    mohr.street1 = "1020 East Market Street"  # corrected by a curator
    mohr.phone = "434-555-0100"
    mohr.co_occurring = True  # a curator says so; no SG/TC label behind it
    mohr.curated_fields = ["street1", "phone", "co_occurring"]
    mohr.save()
    line = mohr.lines.get()
    line.populations.add(terms("population", "CO"))  # not curated, not implying the flag
    line.therapies.add(terms("therapy", "YOGA"))  # a term FindTreatment has no label for
    line.conditions.add(terms("condition", "ALC"))
    before = snapshot()
    path = export(tmp_path)
    assert snapshot() == before
    status, out, _ = run_import(path)
    assert "unchanged 12" in out, out
    assert snapshot() == before
    # Without frids the current name and address still find each listing.
    page = json.loads(path.read_text())
    for row in page["rows"]:
        row.pop("frid"), row.pop("frids")
    status, out, _ = run_import(
        write_page(tmp_path / "nofrids.json", page["rows"], exporter=EXPORTER)
    )
    assert "unchanged 12" in out
    assert snapshot() == before
    assert codes(Facility.objects.get(slug=MOHR), "therapies") == {"ACU", "YOGA"}


def test_round_trip_of_an_approximate_location_and_a_merged_listing(tmp_path):
    sa = sample_row(1)
    sa["latitude"] = sa["longitude"] = ""
    mh = dict(sa)
    mh.update(frid="mh", typeFacility="MH", name2="Mental Health Clinic", services=[
        {"f1": "", "f2": "SET", "f3": "Intensive outpatient treatment"},
    ])  # fmt: skip
    run_import(write_page(tmp_path / "page.json", [sa, mh]), "--publish")
    before = snapshot()
    page = json.loads(export(tmp_path).read_text())
    row = page["rows"][0]
    assert row["latitude"] is None  # a ZIP centre is not the building's position
    assert row["name2"] == "Mental Health Clinic / Mohr Center"
    assert row["frids"] == sorted([sa["frid"], "mh"])
    status, out, _ = run_import(export(tmp_path))
    assert "unchanged 1" in out
    assert snapshot() == before


def test_importing_an_export_into_an_empty_database_recreates_the_listings(tmp_path):
    run_import(SAMPLE, "--publish")
    original = {
        f.slug: (f.phone, sorted(codes(f, "payment_options"))) for f in Facility.objects.all()
    }
    path = export(tmp_path)
    Facility.objects.all().delete()
    run_import(path, "--publish")
    again = {f.slug: (f.phone, sorted(codes(f, "payment_options"))) for f in Facility.objects.all()}
    assert again == original


def test_export_filters_by_state_and_status_and_leaves_out_fictional_listings(tmp_path):
    run_import(SAMPLE, "--publish")
    Facility.objects.filter(slug=MOHR).update(status="draft")
    Facility.objects.create(
        name="Demo Recovery", city="Jackson", state="MS", zip="39201", status="published",
        source=Facility.Source.DEMO,
    )  # fmt: skip
    Facility.objects.create(
        name="Hope IOP", city="Jackson", state="MS", zip="39201", status="published"
    )
    published = json.loads(export(tmp_path).read_text())["rows"]
    assert len(published) == 12  # 11 published sample listings + Hope IOP
    assert "Demo Recovery" not in {row["name1"] for row in published}
    virginia = json.loads(export(tmp_path, "--state", "va", "--status", "any").read_text())
    assert virginia["recordCount"] == 12
    assert {row["state"] for row in virginia["rows"]} == {"VA"}
    drafts = json.loads(export(tmp_path, "--status", "draft").read_text())["rows"]
    assert [row["name2"] for row in drafts] == ["Mohr Center"]
    with pytest.raises(CommandError):
        export(tmp_path, "--state", "XX")


def test_a_listing_entered_by_hand_round_trips_without_a_duplicate(tmp_path):
    Facility.objects.create(
        name="Hope IOP", street1="1 Main St", city="Jackson", state="MS", zip="39201",
        status="published",
    )  # fmt: skip
    before = snapshot()
    status, out, _ = run_import(export(tmp_path))
    assert status == 0 and "skipped 1" in out
    assert snapshot() == before


def test_export_to_standard_output(tmp_path):
    run_import(SAMPLE, "--publish")
    out = StringIO()
    call_command("export_findtreatment", stdout=out)
    assert json.loads(out.getvalue())["recordCount"] == 12
