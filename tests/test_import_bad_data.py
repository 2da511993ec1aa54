"""Bad data never crashes an import or merges two places: the row is rejected, the run goes on.

The inputs are the ones an attack on the importer found (a NUL byte in name1, a lone
surrogate, JSON nested 100,000 deep, one frid on two places), and their neighbours.
"""

import json

import pytest
from django.contrib.auth.models import Group, User
from django.core.files.uploadedfile import SimpleUploadedFile

from facilities.importers import findtreatment
from facilities.models import Facility
from facilities.permissions import CURATORS_GROUP

from .findtreatment_support import run_import, sample_row, write_page

pytestmark = pytest.mark.django_db

# Two rows of the sample at different addresses (Charlottesville; a second place).
FIRST, SECOND = 1, 2


def names():
    return sorted(Facility.objects.values_list("name", flat=True))


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("name1", "Region Ten\x00", "field name1 contains a NUL byte"),
        ("name2", "Mohr \ud800 Center", "field name2 is not valid Unicode text"),
        ("city", "Charlottes\x07ville", "field city contains a control character"),
        ("street1", "x" * (findtreatment.MAX_TEXT_CHARS + 1), "field street1 is longer than"),
    ],
)
def test_a_bad_text_field_rejects_its_row_and_the_good_files_around_it_are_imported(
    tmp_path, field, value, reason
):
    folder = tmp_path / "pages"
    folder.mkdir()
    bad = sample_row(FIRST)
    bad[field] = value
    write_page(folder / "a_good.json", [sample_row(SECOND)])
    # json.dumps escapes the surrogate as \ud800, as a real file would carry it.
    (folder / "b_bad.json").write_text(json.dumps({"rows": [bad]}))
    write_page(folder / "c_good.json", [sample_row(3)])
    status, out, err = run_import(folder)
    assert status == 1, "a rejected row makes the command fail, after its summary"
    assert f"REJECTED: {folder / 'b_bad.json'} row 1: {reason}" in out
    assert "created 2" in out and "rejected 1" in out
    assert Facility.objects.count() == 2


def test_a_bad_value_inside_services_names_where_it_is(tmp_path):
    row = sample_row(FIRST)
    row["services"][0]["f3"] = "Intensive outpatient treatment\x00"
    status, out, _ = run_import(write_page(tmp_path / "page.json", [row]))
    assert status == 1
    assert "field services[0].f3 contains a NUL byte" in out
    assert Facility.objects.count() == 0


def test_json_nested_too_deeply_rejects_the_file_and_the_others_are_imported(tmp_path):
    deep = tmp_path / "deep.json"
    deep.write_text('{"rows": [' + "[" * 100_000 + "]" * 100_000 + "]}")
    good = write_page(tmp_path / "good.json", [sample_row(FIRST)])
    status, out, _ = run_import(deep, good)
    assert status == 1
    assert f"REJECTED: {deep}: not an export page (JSON nested too deeply)" in out
    assert "created 1" in out


def test_a_row_nested_deeper_than_real_rows_is_rejected(tmp_path):
    row = sample_row(FIRST)
    nested = "leaf"
    for _ in range(findtreatment.MAX_ROW_DEPTH + 1):
        nested = [nested]
    row["extra"] = nested
    status, out, _ = run_import(write_page(tmp_path / "page.json", [row]))
    assert status == 1 and "is nested too deeply" in out


def test_real_rows_are_within_every_limit():
    for irow in range(1, 13):
        assert findtreatment._check_row(sample_row(irow)) is None


def test_one_frid_on_two_places_in_one_file_imports_neither(tmp_path):
    first, second = sample_row(FIRST), sample_row(SECOND)
    second["frid"] = first["frid"]
    good = sample_row(3)
    status, out, _ = run_import(write_page(tmp_path / "page.json", [first, second, good]))
    assert status == 1
    assert out.count("conflict: frid") == 2, "both places are reported"
    assert f"also names another place ({tmp_path / 'page.json'} row 2)" in out
    assert names() == [good["name1"]], "neither conflicting place is imported"


def test_a_frid_of_one_listing_on_another_listings_address_changes_neither(tmp_path):
    first, second = sample_row(FIRST), sample_row(SECOND)
    run_import("--publish", write_page(tmp_path / "both.json", [first, second]))
    before = {f.pk: (f.name, f.city, f.street1, f.version) for f in Facility.objects.all()}
    moved = sample_row(SECOND)
    moved["frid"] = first["frid"]  # the first place's frid, the second place's address
    moved["phone"] = "434-555-0199"
    status, out, _ = run_import(write_page(tmp_path / "update.json", [moved]))
    assert status == 1
    assert "conflict: its frid belongs to the listing" in out and "neither is changed" in out
    after = {f.pk: (f.name, f.city, f.street1, f.version) for f in Facility.objects.all()}
    assert after == before


def test_a_frid_that_moved_address_alone_still_updates_its_listing(tmp_path):
    """Not a conflict: the frid names a listing and the new address names none (a move)."""
    row = sample_row(FIRST)
    run_import("--publish", write_page(tmp_path / "first.json", [row]))
    row["street1"] = "1 New Street"
    status, out, _ = run_import(write_page(tmp_path / "moved.json", [row]))
    assert status == 0, out
    assert Facility.objects.get().street1 == "1 New Street"


def test_the_admin_upload_reports_bad_text_instead_of_failing(client):
    user = User.objects.create_user("curator", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name=CURATORS_GROUP))
    client.force_login(user)
    bad = sample_row(FIRST)
    bad["name1"] = "Region Ten\x00"
    files = [
        SimpleUploadedFile("nul.json", json.dumps({"rows": [bad]}).encode()),
        SimpleUploadedFile("deep.json", b'{"rows": [' + b"[" * 100_000 + b"]" * 100_000 + b"]}"),
        SimpleUploadedFile("good.json", json.dumps({"rows": [sample_row(SECOND)]}).encode()),
    ]
    response = client.post("/admin/facilities/facility/import-findtreatment/", {"files": files})
    assert response.status_code == 200
    text = response.content.decode()
    assert "REJECTED: nul.json row 1: field name1 contains a NUL byte" in text
    assert "REJECTED: deep.json: not an export page (JSON nested too deeply)" in text
