import csv
import datetime
import json

import pytest
from django.core.exceptions import ValidationError
from django.core.management import ManagementUtility
from django.db import connections

from facilities.importers import findtreatment
from facilities.importers.findtreatment import (
    ANY_LABEL,
    FLAG,
    IGNORE,
    MAPPING_PATH,
    FindTreatmentImporter,
    Mapping,
    import_paths,
    stable_key,
)
from facilities.models import Facility
from facilities.vocabulary import VOCABULARY

from .findtreatment_support import (
    SAMPLE,
    codes,
    kinds,
    run_import,
    sample_page,
    sample_row,
    snapshot,
    write_page,
)

pytestmark = pytest.mark.django_db

MOHR = "region-ten-community-services-board-mohr-center-charlottesville-va"
REGION_TEN = "region-ten-community-services-board-charlottesville-va"


def by_slug(slug):
    return Facility.objects.get(slug=slug)


# --- The sample, field by field ---------------------------------------------------------


def test_sample_creates_one_draft_listing_per_place():
    status, out, _ = run_import(SAMPLE)
    assert status == 0
    # 12 rows, 12 different addresses (the sample holds no SA/MH pair).
    assert Facility.objects.count() == 12
    assert set(Facility.objects.values_list("status", flat=True)) == {"draft"}
    assert set(Facility.objects.values_list("source", flat=True)) == {"findtreatment"}
    assert "created 12, updated 0, unchanged 0, skipped 0, rejected 0" in out


def test_region_ten_mohr_center_field_by_field():
    run_import(SAMPLE)
    mohr = by_slug(MOHR)
    assert (mohr.name, mohr.program_name) == ("Region Ten Community Services Board", "Mohr Center")
    assert (mohr.street1, mohr.city, mohr.state, mohr.zip) == (
        "1014 East Market Street", "Charlottesville", "VA", "22902",
    )  # fmt: skip
    assert (mohr.phone, mohr.intake_phone, mohr.hotline) == ("434-979-8871", "434-972-1800", "")
    assert mohr.website == "http://www.regionten.org"
    assert (mohr.latitude, mohr.longitude) == (38.0282239, -78.4725231)
    assert mohr.location_approximate is False
    assert mohr.ownership.code == "LCCG"
    assert codes(mohr, "payment_options") == {"MD", "PI", "SF", "GF"}
    assert codes(mohr, "payment_assistance") == {"SS"}
    assert codes(mohr, "populations") == {"MN", "DV"}
    assert codes(mohr, "levels_of_care") == {"RES", "RS"}
    assert codes(mohr, "age_groups") == {"ADLT", "YAD"}
    assert codes(mohr, "genders") == {"MALE"}
    assert codes(mohr, "accreditations") == {"SSA"}
    assert codes(mohr, "therapies") == {"ACU"}
    assert codes(mohr, "approaches") == {"ANG", "BRI", "CBT", "MI", "REL", "SAC", "TRC"}
    assert codes(mohr, "languages") == codes(mohr, "medications") == set()
    assert mohr.co_occurring is False
    assert mohr.source_record["frids"] == [sample_row(1)["frid"]]
    assert mohr.source_record["rows"] == [sample_row(1)]
    assert mohr.source_key == stable_key(
        "Region Ten Community Services Board", "1014 East Market Street", "Charlottesville",
        "VA", "22902",
    )  # fmt: skip


def test_region_ten_outpatient_has_iop_spanish_deaf_services_and_co_occurring():
    run_import(SAMPLE)
    clinic = by_slug(REGION_TEN)
    assert codes(clinic, "levels_of_care") == {"OIT", "OMB", "ORT"}
    assert codes(clinic, "payment_options") == {"GF", "MD", "MI", "PI", "SF"}
    assert codes(clinic, "populations") == {"WN", "MN", "CJ", "CO", "XA", "TRMA", "DUI"}
    assert clinic.co_occurring is True
    assert codes(clinic, "conditions") == {"COD"}
    assert codes(clinic, "languages") == {"SP", "AH"}
    assert codes(clinic, "medications") == {"BWN", "BU"}
    assert codes(clinic, "genders") == {"FEM", "MALE"}
    assert codes(clinic, "accreditations") == {"SSA", "SMHA"}
    assert "TRAN" in codes(clinic, "services")


def test_other_sample_listings():
    run_import(SAMPLE)
    families = by_slug("empowering-families-program-charlottesville-va")
    assert families.ownership.code == "PVTP"
    assert codes(families, "levels_of_care") == {"ORT", "ODT", "TELE"}
    assert codes(families, "age_groups") == {"ADLT", "CHLD", "SNR", "YAD"}
    assert {"SI", "MC", "MD", "MI", "PI", "SF", "GF"} == codes(families, "payment_options")
    assert {"TAY", "SE", "GL", "VET", "ADM", "MF", "SED", "PTSD", "EDP"} <= codes(
        families, "populations"
    )
    assert {"FAM", "CPL"} <= codes(families, "approaches")

    ars = by_slug("addiction-recovery-systems-llc-charlottesville-va")
    assert codes(ars, "medications") == {"METH", "BU", "BWN"}
    assert codes(ars, "accreditations") == {"SSA", "SMHA", "CARF", "SAMHSA"}
    assert codes(ars, "levels_of_care") == {"ORT", "OMB"}

    dual = by_slug("dual-recovery-center-charlottesville-va")
    assert dual.ownership.code == "LCCG"  # "Regional/district or county, ..." is LCCG too
    assert dual.co_occurring is True

    uva = by_slug("university-of-virginia-medical-center-charlottesville-va")
    assert uva.ownership.code == "PVTN"
    assert codes(uva, "levels_of_care") == {"HIT"}

    clinic = Facility.objects.get(name="UVA Child/Adolescent Psychiatry Clinic")
    assert codes(clinic, "payment_assistance") == {"PA", "SS"}
    assert codes(clinic, "age_groups") == {"CHLD"}


def test_every_label_in_the_sample_is_known_to_the_mapping():
    report = import_paths([SAMPLE])
    mapped, ignored, unknown, mapped_n, ignored_n, unknown_n = report.coverage()
    assert unknown == 0 and not report.unmapped
    assert (mapped, ignored) == (130, 28)
    assert mapped_n + ignored_n == 539


def test_every_mapping_target_is_a_builtin_term_or_a_flag():
    builtin = {(group, entry[0]) for group, entries in VOCABULARY.items() for entry in entries}
    mapping = Mapping.load()
    for row in mapping.rows:
        if row.target.group == FLAG:
            assert row.target.code == "co_occurring"
        elif row.target.group != IGNORE and row.label != ANY_LABEL:
            assert (row.target.group, row.target.code) in builtin, row
    with open(MAPPING_PATH, encoding="utf-8") as handle:
        header = next(line for line in handle if not line.startswith("#"))
    assert next(csv.reader([header])) == ["category_code", "label", "group", "code"]


def test_labels_match_whatever_the_case_spacing_and_punctuation():
    row = sample_row(1)
    row["services"] = [
        {"f1": "", "f2": "set", "f3": "INTENSIVE  outpatient treatment"},
        {"f1": "", "f2": "PHR", "f3": "Buprenorphine with naloxone (Suboxone)"},
    ]
    FindTreatmentImporter().run([("page.json", json.dumps({"rows": [row]}))])
    mohr = by_slug(MOHR)
    assert codes(mohr, "levels_of_care") == {"OIT"}
    assert codes(mohr, "medications") == {"BWN", "BU"}


def test_federal_family_ownership_prefers_the_specific_agency(tmp_path):
    row = sample_row(1)
    row["services"] = [
        {"f1": "", "f2": "FOP", "f3": "Federal Government; Department of Veterans Affairs"}
    ]
    run_import(write_page(tmp_path / "va.json", [row]))
    ownership = by_slug(MOHR).ownership
    assert ownership.code == "VAMC"
    assert ownership.parent.code == "FED"


# --- SA and MH rows of one place -------------------------------------------------------


def _mh_twin_of_mohr():
    """The MH row FindTreatment would list for the same place."""
    row = sample_row(1)
    row.update(
        frid="mh-frid-of-mohr",
        typeFacility="MH",
        name2="",
        street1="1014 E. Market St.",  # spelled differently, the same place
        city="CHARLOTTESVILLE",
        services=[
            {"f1": "Type of Care", "f2": "TC", "f3": "Mental health treatment"},
            {"f1": "", "f2": "SET", "f3": "Outpatient; Intensive outpatient treatment"},
            {"f1": "", "f2": "PAY", "f3": "Medicare"},
            {
                "f1": "",
                "f2": "SG",
                "f3": "Persons with co-occurring mental and substance use disorders",
            },  # fmt: skip
        ],
    )
    return row


def test_sa_and_mh_rows_of_one_place_become_one_listing_with_two_lines(tmp_path):
    page = write_page(tmp_path / "page.json", [sample_row(1), _mh_twin_of_mohr()])
    status, out, _ = run_import(page)
    assert status == 0
    assert Facility.objects.count() == 1
    mohr = Facility.objects.get()
    assert mohr.program_name == "Mohr Center"
    assert kinds(mohr) == ["SA", "MH"]
    # Each program keeps its own row's facts: never the union of both.
    assert codes(mohr, "levels_of_care", "SA") == {"RES", "RS"}
    assert codes(mohr, "payment_options", "SA") == {"MD", "PI", "SF", "GF"}
    assert codes(mohr, "levels_of_care", "MH") == {"ORT", "OIT"}
    assert codes(mohr, "payment_options", "MH") == {"MC"}
    # Co-occurring care is the place's, from either row (here the MH row's SG).
    assert mohr.co_occurring is True
    assert mohr.source_record["frids"] == sorted([sample_row(1)["frid"], "mh-frid-of-mohr"])
    assert [row["typeFacility"] for row in mohr.source_record["rows"]] == ["MH", "SA"]


def test_sa_and_mh_rows_imported_separately_give_the_same_listing(tmp_path):
    sa = write_page(tmp_path / "sa.json", [sample_row(1)])
    mh = write_page(tmp_path / "mh.json", [_mh_twin_of_mohr()])
    run_import(sa)
    status, out, _ = run_import(mh)
    assert status == 0 and "updated 1" in out
    apart = snapshot()[0]
    Facility.objects.all().delete()
    run_import(tmp_path)  # the folder: both pages in one run
    together = snapshot()[0]
    for volatile in ("pk", "id", "updated_at"):
        apart.pop(volatile, None), together.pop(volatile, None)
    assert apart == together
    # And the SA page again replaces only the SA side: nothing changes.
    status, out, _ = run_import(sa)
    assert "unchanged 1" in out


def test_a_newer_sa_row_replaces_the_old_sa_row_and_keeps_the_mh_row(tmp_path):
    run_import(write_page(tmp_path / "both.json", [sample_row(1), _mh_twin_of_mohr()]))
    newer = sample_row(1)
    newer["services"] = [{"f1": "", "f2": "PAY", "f3": "Cash or self-payment"}]
    run_import(write_page(tmp_path / "newer.json", [newer]))
    mohr = Facility.objects.get()
    assert codes(mohr, "payment_options", "SA") == {"SF"}  # the newer SA row's
    assert codes(mohr, "payment_options", "MH") == {"MC"}  # the MH row's, kept
    assert codes(mohr, "levels_of_care", "SA") == set()  # SA lists no setting any more
    assert codes(mohr, "levels_of_care", "MH") == {"ORT", "OIT"}


# --- Idempotence and updates -----------------------------------------------------------


def test_importing_the_same_file_twice_changes_nothing():
    run_import(SAMPLE)
    before = snapshot()
    status, out, _ = run_import(SAMPLE)
    assert status == 0
    assert "created 0, updated 0, unchanged 12" in out
    assert snapshot() == before


def test_page_position_and_distance_are_not_changes(tmp_path):
    run_import(SAMPLE)
    before = snapshot()
    page = sample_page()
    for row in page["rows"]:
        row["_irow"] += 40
        row["miles"] = 12.5
    page["rows"].reverse()
    status, out, _ = run_import(write_page(tmp_path / "page2.json", page["rows"]))
    assert "unchanged 12" in out
    assert snapshot() == before


def test_a_newer_export_updates_the_listing_it_matches(tmp_path):
    run_import(SAMPLE)
    row = sample_row(1)
    row["phone"] = "434-555-0100"
    row["services"][6]["f3"] += "; Medicare"  # PAY
    assert row["services"][6]["f2"] == "PAY"
    status, out, _ = run_import(write_page(tmp_path / "newer.json", [row]))
    assert status == 0
    assert "updated: Region Ten Community Services Board (Mohr Center)" in out
    assert "(phone, SA payment_options, source_record)" in out
    mohr = by_slug(MOHR)
    assert mohr.phone == "434-555-0100"
    assert "MC" in codes(mohr, "payment_options")
    assert Facility.objects.count() == 12


def test_a_moved_facility_is_matched_by_its_frid(tmp_path):
    run_import(SAMPLE)
    row = sample_row(1)
    row["street1"] = "200 New Street"
    status, out, _ = run_import(write_page(tmp_path / "moved.json", [row]))
    assert "updated 1" in out
    assert by_slug(MOHR).street1 == "200 New Street"
    assert Facility.objects.count() == 12


def test_without_frids_the_stable_key_matches(tmp_path):
    page = sample_page()
    for row in page["rows"]:
        del row["frid"]
    run_import(write_page(tmp_path / "nofrid.json", page["rows"]))
    row = page["rows"][0]
    row["street1"] = "1014 E Market St"  # the same address, spelled differently
    row["hotline1"] = "434-555-0199"
    status, out, _ = run_import(write_page(tmp_path / "again.json", [row]))
    assert "updated 1" in out
    assert by_slug(MOHR).hotline == "434-555-0199"
    assert Facility.objects.count() == 12


def test_publish_applies_to_new_listings_only(tmp_path):
    run_import(write_page(tmp_path / "one.json", [sample_row(1)]))
    run_import(SAMPLE, "--publish")
    assert by_slug(MOHR).status == "draft"
    assert Facility.objects.filter(status="published").count() == 11


# --- Curated work ----------------------------------------------------------------------


def test_curated_fields_survive_and_what_would_change_is_reported(tmp_path, terms):
    run_import(SAMPLE)
    mohr = by_slug(MOHR)
    mohr.phone = "434-555-0111"
    mohr.latitude, mohr.longitude = 38.03, -78.47
    mohr.curated_fields = ["phone", "latitude", "longitude"]
    mohr.save()
    line = mohr.lines.get(kind="SA")
    line.curated_fields = ["payment_options"]
    line.save()
    line.payment_options.remove(terms("payment", "GF"))

    newer = sample_row(1)
    newer["phone"] = "434-979-0000"
    newer["intake1"] = "434-979-0001"
    newer["latitude"] = "38.1"
    status, out, _ = run_import(write_page(tmp_path / "newer.json", [newer]))
    assert status == 0
    mohr.refresh_from_db()
    assert mohr.phone == "434-555-0111"
    assert (mohr.latitude, mohr.longitude) == (38.03, -78.47)
    assert codes(mohr, "payment_options") == {"MD", "PI", "SF"}
    assert mohr.intake_phone == "434-979-0001"  # not curated: updated
    assert "kept curated phone of Region Ten" in out
    assert "'434-555-0111' (import has '434-979-0000')" in out
    assert "kept curated SA payment_options" in out and "['GF', 'MD', 'PI', 'SF']" in out
    assert "kept curated location" in out


def test_curation_an_import_never_touches(tmp_path):
    run_import(SAMPLE, "--publish")
    mohr = by_slug(MOHR)
    mohr.description = "Evening IOP, three nights a week."
    mohr.verified_at = datetime.date(2025, 1, 15)
    mohr.status = Facility.Status.ARCHIVED
    mohr.save()
    line = mohr.lines.get()
    line.hours_per_week_min, line.hours_per_week_max = 9, 12
    line.offers_evening = True
    line.save()
    newer = sample_row(1)
    newer["phone"] = "434-979-0000"
    run_import(write_page(tmp_path / "newer.json", [newer]))
    mohr.refresh_from_db()
    assert mohr.phone == "434-979-0000"
    assert mohr.description == "Evening IOP, three nights a week."
    line.refresh_from_db()
    assert (line.hours_per_week_min, line.hours_per_week_max) == (9, 12)
    assert line.offers_evening is True
    assert mohr.verified_at == datetime.date(2025, 1, 15)
    assert mohr.status == "archived"


def test_a_place_entered_by_hand_is_not_imported_twice(tmp_path):
    manual = Facility.objects.create(
        name="Region Ten Community Services Board", street1="1014 E. Market St",
        city="Charlottesville", state="VA", zip="22902", phone="434-555-0123",
    )  # fmt: skip
    status, out, _ = run_import(write_page(tmp_path / "one.json", [sample_row(1)]))
    assert status == 0
    assert Facility.objects.count() == 1
    manual.refresh_from_db()
    assert manual.phone == "434-555-0123" and manual.source == "manual"
    assert "skipped: one.json row 1" in out.replace(str(tmp_path) + "/", "")
    assert "entered by hand" in out


# --- Location ---------------------------------------------------------------------------


def test_rows_without_coordinates_get_the_zip_centre_marked_approximate(tmp_path):
    row = sample_row(1)
    row["latitude"] = row["longitude"] = None
    run_import(write_page(tmp_path / "nocoords.json", [row]))
    mohr = by_slug(MOHR)
    assert mohr.location_approximate is True
    assert mohr.latitude == pytest.approx(38.03, abs=0.05)
    assert mohr.longitude == pytest.approx(-78.48, abs=0.05)
    # A later row with the building's coordinates replaces the approximation.
    run_import(write_page(tmp_path / "coords.json", [sample_row(1)]))
    mohr.refresh_from_db()
    assert (mohr.latitude, mohr.longitude, mohr.location_approximate) == (
        38.0282239, -78.4725231, False,
    )  # fmt: skip
    # ...and a row without coordinates does not take them away again.
    status, out, _ = run_import(write_page(tmp_path / "nocoords.json", [row]))
    mohr.refresh_from_db()
    assert mohr.location_approximate is False and mohr.latitude == 38.0282239


# --- Bad input ---------------------------------------------------------------------------


def test_bad_files_and_rows_are_reported_with_file_and_row_and_good_rows_imported(tmp_path):
    (tmp_path / "broken.json").write_text("{not json")
    nameless, stateless, badzip = sample_row(1), sample_row(3), sample_row(4)
    nameless["name1"] = "  "
    del stateless["state"]
    badzip["zip"] = "229"
    page = write_page(tmp_path / "mixed.json", [nameless, sample_row(2), stateless, badzip])
    status, out, err = run_import(tmp_path / "broken.json", page, tmp_path / "missing.json")
    assert status == 1
    assert "5 file(s) or row(s) rejected" in err
    assert f"REJECTED: {tmp_path / 'broken.json'}: not JSON" in out
    assert f"REJECTED: {page} row 1: no name (name1)" in out
    assert f"REJECTED: {page} row 3: no state" in out
    assert f"REJECTED: {page} row 4: ZIP code '229' is not a 5-digit ZIP" in out
    assert f"REJECTED: {tmp_path / 'missing.json'}: no such file or folder" in out
    assert list(Facility.objects.values_list("name", flat=True)) == ["Dual Recovery Center"]


def test_the_exit_status_is_non_zero_when_rows_are_rejected(tmp_path, capsys, monkeypatch):
    # manage.py closes the connections on exit; the test's transaction needs this one.
    monkeypatch.setattr(connections, "close_all", lambda: None)
    (tmp_path / "broken.json").write_text("[1, 2")
    argv = ["manage.py", "import_findtreatment", str(tmp_path / "broken.json")]
    with pytest.raises(SystemExit) as exit_info:
        ManagementUtility(argv).execute()
    assert exit_info.value.code == 1
    assert "not JSON" in capsys.readouterr().out


def test_a_json_file_that_is_not_an_export_page_is_rejected(tmp_path):
    (tmp_path / "other.json").write_text('{"facilities": []}')
    status, out, _ = run_import(tmp_path / "other.json")
    assert status == 1
    assert 'not an export page (expected an object with a "rows" list)' in out


def test_unknown_labels_are_counted_with_where_they_were_seen_but_never_fatal(tmp_path):
    first, second = sample_row(1), sample_row(3)
    first["services"].append({"f1": "New", "f2": "NEWCAT", "f3": "Horse therapy; Art"})
    second["services"].append({"f1": "New", "f2": "NEWCAT", "f3": "Horse therapy"})
    page = write_page(tmp_path / "page.json", [first, second])
    status, out, _ = run_import(page)
    assert status == 0
    assert Facility.objects.count() == 2
    assert f"    2  NEWCAT: Horse therapy  ({page} row 1, {page} row 2)" in out
    assert f"    1  NEWCAT: Art  ({page} row 1)" in out
    assert "unmapped labels 2 (3 occurrences)" in out
    # The raw record keeps them for a future mapping.
    assert "NEWCAT" in str(by_slug(MOHR).source_record)
    status, _, err = run_import(page, "--strict")
    assert status == 1 and "2 label(s) could not be mapped" in err


def test_bad_phone_and_website_are_left_blank_with_a_warning(tmp_path):
    row = sample_row(1)
    row["phone"], row["website"] = "call us", "www.regionten.org"
    status, out, _ = run_import(write_page(tmp_path / "page.json", [row]))
    assert status == 0
    mohr = by_slug(MOHR)
    assert mohr.phone == ""
    assert mohr.website == "http://www.regionten.org"  # a scheme is added
    assert "phone 'call us' is not a phone number; left blank" in out


def test_an_interrupted_import_keeps_whole_listings_only(monkeypatch):
    calls = []
    real_add = findtreatment.MatchIndex.add

    def add_then_interrupt(self, facility, frids):
        calls.append(facility.pk)
        if len(calls) == 3:  # the third listing is saved with its services, then Ctrl-C
            raise KeyboardInterrupt
        real_add(self, facility, frids)

    monkeypatch.setattr(findtreatment.MatchIndex, "add", add_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        FindTreatmentImporter(batch_size=2).run([("sample.json", SAMPLE.read_bytes())])
    # The first batch of two was committed; the third listing went with its batch.
    assert Facility.objects.count() == 2
    assert not Facility.objects.filter(pk=calls[2]).exists()
    monkeypatch.undo()
    status, out, _ = run_import(SAMPLE)  # running again finishes the job
    assert "created 10, updated 0, unchanged 2" in out


def test_a_listing_the_database_refuses_is_rejected_alone(monkeypatch):
    real_validate = findtreatment._validate

    def refuse_fair_winds(facility):
        if facility.name == "Fair Winds":
            raise ValidationError({"website": "Enter a valid URL."})
        real_validate(facility)

    monkeypatch.setattr(findtreatment, "_validate", refuse_fair_winds)
    status, out, _ = run_import(SAMPLE)
    assert status == 1
    assert f"REJECTED: {SAMPLE} row 12: not saved: Enter a valid URL." in out
    assert Facility.objects.count() == 11


# --- Dry run and progress ----------------------------------------------------------------


def test_dry_run_changes_nothing_and_reports_what_a_real_run_does(tmp_path):
    run_import(write_page(tmp_path / "one.json", [sample_row(1)]))
    mohr = by_slug(MOHR)
    mohr.curated_fields = ["phone"]
    mohr.phone = "434-555-0111"
    mohr.save()
    (tmp_path / "broken.json").write_text("nope")
    page = sample_page()
    page["rows"][0]["phone"] = "434-979-0000"
    page["rows"][0]["intake1"] = "434-979-0001"
    page["rows"][1]["state"] = ""
    page["rows"][2]["services"].append({"f1": "", "f2": "X", "f3": "Unknown thing"})
    newer = write_page(tmp_path / "newer.json", page["rows"])

    before = snapshot()
    dry_status, dry_out, _ = run_import(newer, tmp_path / "broken.json", "--dry-run")
    assert snapshot() == before
    assert "DRY RUN (nothing saved)" in dry_out
    real_status, real_out, _ = run_import(newer, tmp_path / "broken.json")
    assert snapshot() != before
    assert dry_status == real_status == 1
    assert dry_out.replace("DRY RUN (nothing saved): ", "") == real_out
    assert "created 10, updated 1, unchanged 0, skipped 0, rejected 2" in real_out


def test_progress_is_reported_for_large_imports(tmp_path):
    page = sample_page()
    messages = []
    importer = FindTreatmentImporter(progress=messages.append, progress_every=5)
    importer.run([("page.json", json.dumps(page))])
    assert messages == [
        "5/12 listings processed",
        "10/12 listings processed",
        "12/12 listings processed",
    ]
    _, _, err = run_import(SAMPLE)
    assert "12/12 listings processed" in err


def test_an_imported_listing_and_its_line_get_one_history_entry_each_holding_its_terms():
    status, _, _ = run_import(SAMPLE, "--publish")
    assert status == 0
    facility = Facility.objects.get(program_name="Mohr Center")
    entries = list(facility.history.all())
    assert len(entries) == 1
    assert entries[0].history_change_reason == findtreatment.HISTORY_REASON
    line = facility.lines.get()
    line_entries = list(line.history.all())
    assert len(line_entries) == 1
    assert line_entries[0].history_change_reason == findtreatment.HISTORY_REASON
    payments = set(line_entries[0].payment_options.values_list("term__code", flat=True))
    assert payments == set(line.payment_options.values_list("code", flat=True))
    assert "MD" in payments
