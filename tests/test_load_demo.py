"""manage.py load_demo: the demo listings with their service lines, and the FindTreatment sample."""

import json
from io import StringIO

import pytest
from django.core.management import call_command

from facilities.management.commands import load_demo
from facilities.models import TERM_FIELDS, Facility, ServiceLine

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
    }, {
        "model": "facilities.serviceline",
        "fields": {"facility": ["magnolia-iop-oxford-ms"], "kind": "SA",
                   "levels_of_care": [["level_of_care", "OIT"]],
                   "payment_options": [["payment", "SF"]]},
    }, {
        "model": "facilities.serviceline",
        "fields": {"facility": ["magnolia-iop-oxford-ms"], "kind": "MH",
                   "levels_of_care": [["level_of_care", "ORT"]],
                   "payment_options": [["payment", "MD"]]},
    }]))  # fmt: skip
    monkeypatch.setattr(load_demo, "DEMO_FIXTURE", fixture)
    out = run_load_demo()
    assert "Loaded 1 demo listing(s) with 2 service line(s)" in out
    facility = Facility.objects.get(slug="magnolia-iop-oxford-ms")
    assert {
        line.kind: list(line.payment_options.values_list("code", flat=True))
        for line in facility.lines.all()
    } == {"SA": ["SF"], "MH": ["MD"]}
    Facility.objects.filter(source="demo").update(phone="601-555-0100")  # edited in admin
    before = snapshot()
    out = run_load_demo()
    assert "already loaded" in out
    assert snapshot() == before
    assert Facility.objects.filter(source="demo").count() == 1
    assert ServiceLine.objects.filter(facility__source="demo").count() == 2


def history_codes(entry, field):
    return set(getattr(entry, field).values_list("term__code", flat=True))


def test_the_real_demo_fixture_gives_each_listing_and_line_one_history_entry_with_its_terms():
    out = run_load_demo()
    assert "Loaded 160 demo listing(s) with 210 service line(s)" in out
    demo = Facility.objects.filter(source="demo")
    lines = ServiceLine.objects.filter(facility__source="demo")
    assert Facility.history.filter(source="demo").count() == demo.count() == 160
    entries = ServiceLine.history.filter(facility__source="demo")
    assert entries.count() == lines.count() == 210
    assert entries.values("id").distinct().count() == 210  # one each
    assert set(entries.values_list("history_type", "history_change_reason").distinct()) == {
        ("+", "Demo data loaded")
    }
    # The entry holds the line's terms as loaded: reverting to it restores them.
    for kind in ("SA", "MH"):
        line = lines.filter(kind=kind, payment_options__isnull=False).first()
        entry = line.history.get()
        for field in TERM_FIELDS:
            assert history_codes(entry, field) == set(
                getattr(line, field).values_list("code", flat=True)
            ), (kind, field)
    links = ServiceLine.payment_options.through.objects.filter(serviceline__in=lines).count()
    history_links = ServiceLine.history.model.payment_options.model.objects
    assert history_links.filter(history__in=entries).count() == links
