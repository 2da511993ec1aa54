"""The fictional-listing generator, `generate_facilities`, and the demo fixture it produced."""

import datetime
import re
from collections import Counter
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from facilities.models import Facility, Term
from facilities.synthetic import TERM_FIELDS, Generator, parse_states

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "demo_facilities.json"
# The documented command line that produced the fixture (README, `make demo-fixture`).
DEMO_FIXTURE_OPTIONS = {
    "seed": 2026,
    "source": "demo",
    "iop_share": 0.8,
    "states": "MS:30,VA:20,TN:14,AL:12,LA:12,GA:14,NC:14,TX:16,OH:12,CA:16",
    "as_of": datetime.date(2026, 11, 22),
}
AS_OF = datetime.date(2026, 1, 15)
FICTIONAL_PHONE = re.compile(r"^\d{3}-555-01\d\d$")


def generate(count, seed=7, **options):
    return list(Generator(seed, "synthetic", as_of=AS_OF).listings(count, **options))


@pytest.fixture(scope="module")
def sample():
    """2,000 listings straight from the generator, for the distributions."""
    return generate(2000, seed=11)


def share(listings, test):
    return sum(1 for listing in listings if test(listing)) / len(listings)


def offers(listing, field, code):
    return code in listing["terms"][field]


def test_same_seed_gives_identical_listings():
    assert generate(150, seed=3) == generate(150, seed=3)


def test_different_seed_gives_different_listings():
    first, second = generate(150, seed=3), generate(150, seed=4)
    assert [row["fields"]["slug"] for row in first] != [row["fields"]["slug"] for row in second]


def test_distributions_are_roughly_realistic(sample):
    assert 0.70 <= share(sample, lambda r: r["fields"]["co_occurring"]) <= 0.90
    assert 0.48 <= share(sample, lambda r: offers(r, "levels_of_care", "OIT")) <= 0.62
    assert 0.40 <= share(sample, lambda r: r["ownership"] == "PVTP") <= 0.50
    assert 0.30 <= share(sample, lambda r: r["ownership"] == "PVTN") <= 0.40
    federal = Counter(r["ownership"] for r in sample if r["ownership"] in {"FED", "VAMC", "DDF"})
    assert set(federal) == {"FED", "VAMC", "DDF"}
    assert 0.62 <= share(sample, lambda r: offers(r, "payment_options", "PI")) <= 0.78
    assert 0.58 <= share(sample, lambda r: offers(r, "payment_options", "MD")) <= 0.72
    assert 0.25 <= share(sample, lambda r: offers(r, "languages", "SP")) <= 0.35
    assert 0.93 <= share(sample, lambda r: r["fields"]["status"] == "published") <= 0.97


def test_states_follow_population_and_cities_cluster(sample):
    states = Counter(row["fields"]["state"] for row in sample)
    assert states["CA"] > states["TX"] > states["MS"] > states["WY"]
    assert len(states) > 40
    # Big cities have many ZIP codes, so they collect many listings.
    cities = Counter((r["fields"]["city"], r["fields"]["state"]) for r in sample)
    assert cities.most_common(1)[0][1] >= 10


def test_iop_schedule_is_set_exactly_for_iop_listings_and_coherent(sample):
    for row in sample:
        fields = row["fields"]
        if not offers(row, "levels_of_care", "OIT"):
            assert fields.get("hours_per_week_min") is None
            continue
        assert 6 <= fields["hours_per_week_min"] <= fields["hours_per_week_max"] <= 20
        assert fields["hours_per_week_max"] >= 9
        assert 3 <= fields["sessions_per_week"] <= 5
        assert 120 <= fields["session_length_minutes"] <= 240
        assert 6 <= fields["duration_weeks"] <= 16
        assert fields["offers_daytime"] or fields["offers_evening"]


def test_verification_dates_fall_in_the_two_years_before_the_day(sample):
    dates = [row["fields"]["verified_at"] for row in sample]
    known = [day for day in dates if day]
    assert 0.05 < 1 - len(known) / len(dates) < 0.25
    assert all(AS_OF - datetime.timedelta(days=730) < day <= AS_OF for day in known)


def test_state_counts_can_be_fixed_or_shared_by_population():
    rows = generate(40, states=parse_states("MS:25,VA"))
    assert Counter(row["fields"]["state"] for row in rows) == {"MS": 25, "VA": 15}
    with pytest.raises(ValueError, match="more than"):
        generate(10, states=parse_states("MS:25"))
    with pytest.raises(ValueError, match="not a state"):
        parse_states("MS,XX")


@pytest.mark.django_db
def test_command_creates_valid_fictional_listings_with_their_terms():
    call_command("generate_facilities", count=300, seed=5, verbosity=0)
    listings = Facility.objects.all()
    assert listings.count() == 300
    assert set(listings.values_list("source", flat=True)) == {Facility.Source.SYNTHETIC}
    for facility in listings.prefetch_related("payment_options")[:60]:
        facility.full_clean()  # every validator the admin would apply
    for facility in listings:
        assert "Example" in facility.name or "Sample" in facility.name
        assert FICTIONAL_PHONE.match(facility.phone), facility.phone
        for phone in (facility.intake_phone, facility.hotline):
            assert not phone or FICTIONAL_PHONE.match(phone), phone
        assert re.match(r"^https://[a-z0-9-]+\.example\.org$", facility.website)
        assert not facility.email or facility.email.endswith("@example.org")
        assert facility.description.startswith("Fictional listing")
        assert facility.city_key and facility.slug
    federal = Facility.objects.filter(ownership__parent__code="FED").count()
    assert federal > 0
    iop = listings.filter(levels_of_care__code="OIT")
    assert 0.45 <= iop.count() / 300 <= 0.65
    assert not iop.filter(hours_per_week_min__isnull=True).exists()
    # The many-to-many rows went in by hand: they must point at the right vocabulary.
    for field, group in TERM_FIELDS.items():
        through = getattr(Facility, field).through
        assert not through.objects.exclude(term__group=group).exists(), field
    assert Facility.payment_options.through.objects.count() > 300


@pytest.mark.django_db
def test_replace_regenerates_the_same_listings_and_keeps_other_sources():
    Facility.objects.create(name="Real Clinic", city="Jackson", state="MS", zip="39201")
    call_command("generate_facilities", count=120, seed=9, as_of=AS_OF, verbosity=0)

    def snapshot():
        return [
            (f.slug, f.phone, f.latitude, sorted(t.code for t in f.payment_options.all()))
            for f in Facility.objects.filter(source="synthetic").order_by("slug")
        ]

    before = snapshot()
    call_command("generate_facilities", count=120, seed=9, as_of=AS_OF, replace=True, verbosity=0)
    assert snapshot() == before
    assert Facility.objects.filter(source="synthetic").count() == 120
    assert Facility.objects.filter(name="Real Clinic").exists()


@pytest.mark.django_db
def test_generating_again_without_replace_adds_listings_with_unique_slugs():
    call_command("generate_facilities", count=50, seed=9, verbosity=0)
    call_command("generate_facilities", count=50, seed=9, verbosity=0)
    assert Facility.objects.count() == 100
    assert Facility.objects.values("slug").distinct().count() == 100


@pytest.mark.django_db
def test_command_rejects_bad_options_without_writing():
    with pytest.raises(CommandError):
        call_command("generate_facilities", states="MS,ZZ", count=5, verbosity=0)
    with pytest.raises(CommandError):
        call_command("generate_facilities", states="MS", verbosity=0)  # no count
    with pytest.raises(CommandError):
        call_command("generate_facilities", count=5, iop_share=1.5, verbosity=0)
    assert not Facility.objects.exists()


@pytest.mark.django_db
def test_demo_fixture_loads_twice_without_duplicates_and_is_fictional_and_spread_out():
    # One test, because loading 160 listings by natural keys takes seconds.
    call_command("loaddata", str(FIXTURE), verbosity=0)
    demo = Facility.objects.filter(source=Facility.Source.DEMO)
    assert demo.count() == Facility.objects.count() >= 150
    states = Counter(demo.values_list("state", flat=True))
    assert len(states) >= 8 and {"MS", "VA"} <= set(states)
    assert 25 <= states["MS"] <= 35
    mississippi_iop = demo.filter(state="MS", levels_of_care__code="OIT").count()
    assert mississippi_iop > states["MS"] / 2
    assert demo.filter(status="published").count() >= 0.9 * demo.count()
    assert len(set(demo.values_list("ownership__code", flat=True))) >= 5
    co_occurring = demo.filter(co_occurring=True).count() / demo.count()
    assert 0.7 <= co_occurring <= 0.95
    assert all(FICTIONAL_PHONE.match(phone) for phone in demo.values_list("phone", flat=True))
    assert not demo.exclude(website__endswith=".example.org").exists()
    assert demo.filter(payment_options__code="MD").exists()
    assert demo.filter(populations__code="VET").exists()

    counts = (Facility.objects.count(), Facility.levels_of_care.through.objects.count())
    call_command("loaddata", str(FIXTURE), verbosity=0)
    assert (Facility.objects.count(), Facility.levels_of_care.through.objects.count()) == counts
    assert Term.objects.get_by_natural_key("payment", "MD").label == "Medicaid"


@pytest.mark.django_db
def test_demo_fixture_is_what_the_documented_command_produces(tmp_path):
    # Fails when the generator changes: regenerate with `make demo-fixture`.
    output = tmp_path / "demo.json"
    call_command("generate_facilities", fixture=str(output), verbosity=0, **DEMO_FIXTURE_OPTIONS)
    assert output.read_text() == FIXTURE.read_text()
    assert not Facility.objects.exists()  # --fixture leaves the database as it was
