"""The FindTreatment import in admin: upload, dry run, confirm; the lines it makes."""

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from facilities import admin_import
from facilities.models import Facility, ServiceLine
from facilities.permissions import CURATORS_GROUP

from .findtreatment_support import SAMPLE, sample_row

pytestmark = pytest.mark.django_db

URL = "/admin/facilities/facility/import-findtreatment/"


@pytest.fixture
def curator(client):
    user = User.objects.create_user("curator", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name=CURATORS_GROUP))
    client.force_login(user)
    return user


def upload(client, *files, publish=False):
    data = {"files": list(files)}
    if publish:
        data["publish"] = "on"
    return client.post(URL, data)


def sample_file(name="findtreatment-sample.json"):
    return SimpleUploadedFile(name, SAMPLE.read_bytes(), content_type="application/json")


def test_the_url_is_the_one_the_changelist_links_to(curator, client):
    assert reverse("admin:facilities_facility_import_findtreatment") == URL
    page = client.get(reverse("admin:facilities_facility_changelist"))
    assert f'href="{URL}"' in page.content.decode()


def test_only_staff_with_the_add_permission_may_import(client):
    assert client.get(URL).status_code == 302  # to the admin login
    staff = User.objects.create_user("staff", password="pw", is_staff=True)
    client.force_login(staff)
    assert client.get(URL).status_code == 403
    assert upload(client, sample_file()).status_code == 403
    assert Facility.objects.count() == 0
    staff.user_permissions.add(Permission.objects.get(codename="add_facility"))
    assert client.get(URL).status_code == 200


def test_upload_shows_the_dry_run_then_confirm_imports(curator, client):
    response = upload(client, sample_file())
    assert response.status_code == 200
    text = response.content.decode()
    assert "Dry run: nothing has been saved yet" in text
    assert "created 12, updated 0, unchanged 0" in text
    assert "created: Region Ten Community Services Board (Mohr Center)" in text
    assert Facility.objects.count() == 0
    token = response.context["token"]
    assert client.session[admin_import.SESSION_KEY]["token"] == token

    response = client.post(URL, {"action": "confirm", "token": token}, follow=True)
    assert response.status_code == 200
    assert "Import done" in response.content.decode()
    assert Facility.objects.count() == 12
    assert set(Facility.objects.values_list("status", flat=True)) == {"draft"}
    # Each row is a program of its place: 5 substance use rows, 7 mental health rows.
    kinds = list(ServiceLine.objects.values_list("kind", flat=True))
    assert (kinds.count("SA"), kinds.count("MH")) == (5, 7)
    assert not Facility.objects.filter(lines__isnull=True).exists()
    assert admin_import.SESSION_KEY not in client.session
    # The same confirmation again has nothing left to import.
    response = client.post(URL, {"action": "confirm", "token": token}, follow=True)
    assert "There is no upload waiting" in response.content.decode()
    assert Facility.objects.count() == 12


def test_publish_and_several_files(curator, client, tmp_path):
    import json

    other = SimpleUploadedFile(
        "second.json", json.dumps({"rows": [sample_row(1) | {"frid": "x", "city": "Crozet",
                                                              "zip": "22932"}]}).encode(),
    )  # fmt: skip
    response = upload(client, sample_file(), other, publish=True)
    assert "created 13" in response.content.decode()
    client.post(URL, {"action": "confirm", "token": response.context["token"]})
    assert Facility.objects.filter(status="published").count() == 13


def test_bad_files_are_reported_not_a_server_error(curator, client):
    broken = SimpleUploadedFile("broken.json", b"\xff\xfe not json")
    nameless = SimpleUploadedFile("rows.json", b'{"rows": [{"state": "VA"}]}')
    response = upload(client, broken, nameless)
    assert response.status_code == 200
    text = response.content.decode()
    assert "REJECTED: broken.json: not UTF-8 text" in text
    assert "REJECTED: rows.json row 1: no name (name1)" in text
    assert "cannot be imported" in text


def test_cancel_forgets_the_upload(curator, client):
    response = upload(client, sample_file())
    response = client.post(URL, {"action": "cancel", "token": response.context["token"]})
    assert response.status_code == 302
    assert admin_import.SESSION_KEY not in client.session
    assert Facility.objects.count() == 0


def test_a_forged_token_imports_nothing(curator, client):
    upload(client, sample_file())
    response = client.post(URL, {"action": "confirm", "token": "guess"}, follow=True)
    assert "There is no upload waiting" in response.content.decode()
    assert Facility.objects.count() == 0


def test_uploads_over_the_limit_are_refused(curator, client, monkeypatch):
    monkeypatch.setattr(admin_import, "MAX_UPLOAD_BYTES", 1000)
    response = upload(client, sample_file())
    assert response.status_code == 200
    assert "the limit here is 0 KB" in response.content.decode()
    assert admin_import.SESSION_KEY not in client.session


def test_an_empty_form_asks_for_files(curator, client):
    response = client.post(URL, {})
    assert response.status_code == 200
    assert "This field is required" in response.content.decode()
