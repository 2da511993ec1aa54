"""Migrations 0007-0009 turn yesterday's merged listings into service lines, losing nothing.

A merged FindTreatment listing is split into its SA and MH lines from its kept rows; a
listing whose terms a curator edited, or that no longer matches its rows, keeps its terms
in one line; every listing keeps every term (the union of its lines is what it had) and
its IOP schedule. Going back joins the lines again.
"""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader

from facilities.importers import findtreatment
from facilities.models import Facility

from .findtreatment_support import sample_row

# Committed writes (the migrations run outside the test's transaction). A transactional test
# run earlier may have flushed the vocabulary that migration 0002 loaded: it is put back.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("vocabulary")]

BEFORE = [("facilities", "0006_published_lat_lng_index")]
# The latest migrations: the tests leave the database as every other test expects it.
AFTER = MigrationLoader(None, ignore_no_migrations=True).graph.leaf_nodes()
TERM_FIELDS = findtreatment.M2M_FIELDS


@pytest.fixture
def vocabulary():
    from facilities.models import Term
    from facilities.vocabulary import sync_vocabulary

    if not Term.objects.exists():
        sync_vocabulary(Term)


def migrate(targets):
    """Migrate to `targets`; the historical models of that state."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def mh_twin():
    row = sample_row(1)
    row.update(
        frid="mh-frid",
        typeFacility="MH",
        services=[
            {"f1": "", "f2": "SET", "f3": "Regular outpatient treatment"},
            {"f1": "", "f2": "PAY", "f3": "Medicare"},
        ],
    )
    return row


def merged_terms(rows):
    """What the importer gave a listing before service lines: the union of its rows."""
    vocabulary = findtreatment.Vocabulary(findtreatment.Mapping.load())
    derived = findtreatment.derive(findtreatment._sort_rows(rows), vocabulary)
    return {
        name: set().union(*(terms[name] for terms in derived.lines.values()))
        for name in TERM_FIELDS
    }


def old_listing(apps, name, terms, **fields):
    OldFacility = apps.get_model("facilities", "Facility")
    facility = OldFacility.objects.create(
        name=name, slug=name.lower().replace(" ", "-"), city="Charlottesville",
        city_key="charlottesville", state="VA", zip="22902", status="published", **fields,
    )  # fmt: skip
    for field_name, ids in terms.items():
        getattr(facility, field_name).set(ids)
    return facility


def codes(line, field_name):
    return set(getattr(line, field_name).values_list("code", flat=True))


def test_merged_listings_become_lines_and_nothing_is_lost():
    old = migrate(BEFORE)
    try:
        OldTerm = old.get_model("facilities", "Term")
        by_code = {(t.group, t.code): t.pk for t in OldTerm.objects.all()}
        rows = [sample_row(1), mh_twin()]
        record = {"frids": ["mh-frid", rows[0]["frid"]], "rows": findtreatment._sort_rows(rows)}
        union = merged_terms(rows)
        old_listing(old, "Merged", union, source="findtreatment", source_record=record)
        curated_terms = {**union, "payment_options": {by_code[("payment", "SF")]}}
        old_listing(
            old, "Curated", curated_terms, source="findtreatment", source_record=record,
            curated_fields=["payment_options", "phone"],
        )  # fmt: skip
        drifted = {**union, "populations": {by_code[("population", "VET")]}}
        old_listing(old, "Drifted", drifted, source="findtreatment", source_record=record)
        by_hand = {"levels_of_care": {by_code[("level_of_care", "OIT")]}}
        old_listing(
            old, "By Hand", by_hand, hours_per_week_min=9, hours_per_week_max=12,
            offers_evening=True, curated_fields=["hours_per_week_min"],
        )  # fmt: skip
        before = {
            f.name: {n: set(getattr(f, n).values_list("code", flat=True)) for n in TERM_FIELDS}
            for f in old.get_model("facilities", "Facility").objects.all()
        }
    finally:
        migrate(AFTER)

    assert Facility.objects.count() == len(before) == 4  # no listing lost
    for facility in Facility.objects.all():
        lines = list(facility.lines.all())
        assert lines, facility.name
        for name in TERM_FIELDS:  # no term lost: the lines' union is what the listing had
            assert (
                set().union(*(codes(line, name) for line in lines)) == before[facility.name][name]
            ), (facility.name, name)

    merged = Facility.objects.get(name="Merged")
    sa, mh = merged.lines.all()
    assert (sa.kind, mh.kind) == ("SA", "MH")
    assert codes(mh, "payment_options") == {"MC"} and codes(mh, "levels_of_care") == {"ORT"}
    assert "MC" not in codes(sa, "payment_options") and "MD" in codes(sa, "payment_options")
    # Not split: a curator's terms, or terms that no longer match the rows.
    for name in ("Curated", "Drifted"):
        assert Facility.objects.get(name=name).lines.count() == 1
    curated = Facility.objects.get(name="Curated")
    assert curated.curated_fields == ["phone"]
    assert curated.lines.get().curated_fields == ["payment_options"]
    by_hand = Facility.objects.get(name="By Hand").lines.get()
    assert (by_hand.kind, by_hand.hours_per_week_min, by_hand.hours_per_week_max) == ("SA", 9, 12)
    assert by_hand.offers_evening is True and by_hand.curated_fields == ["hours_per_week_min"]


def test_going_back_joins_the_lines_again():
    new = migrate(AFTER)
    try:
        Facility.objects.create(name="Two", city="Jackson", state="MS", zip="39201")
        from .factories import add_line

        facility = Facility.objects.get(name="Two")
        add_line(facility, "SA", levels=["OIT"], payments=["SF"], hours_per_week_min=6)
        add_line(facility, "MH", levels=["ORT"], payments=["MD"], hours_per_week_min=3)
        del new
        old = migrate(BEFORE)
        joined = old.get_model("facilities", "Facility").objects.get(name="Two")
        assert set(joined.payment_options.values_list("code", flat=True)) == {"SF", "MD"}
        assert set(joined.levels_of_care.values_list("code", flat=True)) == {"OIT", "ORT"}
        assert joined.hours_per_week_min == 6  # the IOP line's schedule
    finally:
        migrate(AFTER)
