import json
from io import StringIO

import pytest
from django.core.management import call_command

from facilities.management.commands import load_demo
from facilities.models import Facility

from .findtreatment_support import snapshot

pytestmark = pytest.mark.django_db


def run_load_demo():
    out = StringIO()
    call_command("load_demo", stdout=out)
    return out.getvalue()


def test_load_demo_imports_the_sample_published_and_twice_changes_nothing(monkeypatch, tmp_path):
    monkeypatch.setattr(load_demo, "DEMO_FIXTURE", tmp_path / "absent.json")
    out = run_load_demo()
    assert "No absent.json" in out
    assert "created 12" in out
    assert Facility.objects.filter(status="published", source="findtreatment").count() == 12
    before = snapshot()
    out = run_load_demo()
    assert "created 0, updated 0, unchanged 12" in out
    assert snapshot() == before


def test_load_demo_loads_the_demo_fixture_once(monkeypatch, tmp_path):
    fixture = tmp_path / "demo_facilities.json"
    fixture.write_text(json.dumps([{
        "model": "facilities.facility",
        "fields": {"name": "Magnolia IOP", "slug": "magnolia-iop-oxford-ms", "city": "Oxford",
                   "state": "MS", "zip": "38655", "source": "demo", "status": "published",
                   "created_at": "2025-01-01T00:00:00Z", "updated_at": "2025-01-01T00:00:00Z"},
    }]))  # fmt: skip
    monkeypatch.setattr(load_demo, "DEMO_FIXTURE", fixture)
    out = run_load_demo()
    assert "Loaded 1 demo listing(s)" in out
    Facility.objects.filter(source="demo").update(phone="601-555-0100")  # edited in admin
    before = snapshot()
    out = run_load_demo()
    assert "already loaded" in out
    assert snapshot() == before
    assert Facility.objects.filter(source="demo").count() == 1


def test_the_real_demo_fixture_gives_each_listing_one_history_entry_with_its_terms():
    out = run_load_demo()
    assert "Loaded 160 demo listing(s)" in out
    demo = Facility.objects.filter(source="demo")
    assert Facility.history.filter(source="demo").count() == demo.count() == 160
    listing = demo.filter(payment_options__isnull=False).first()
    entry = listing.history.get()
    assert set(entry.payment_options.values_list("term__code", flat=True)) == set(
        listing.payment_options.values_list("code", flat=True)
    )
