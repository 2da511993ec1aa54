"""The fictional-listing generator, `generate_facilities`, and the demo fixture it produced."""

import datetime
import hashlib
import json
import re
import shlex
from collections import Counter
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from facilities import data_version, synthetic
from facilities.models import SCHEDULE_FIELDS, Facility, ProblemReport, ServiceLine, Term
from facilities.synthetic import TERM_FIELDS, Generator, parse_states

from .factories import make_facility

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "fixtures" / "demo_facilities.json"
AS_OF = datetime.date(2026, 1, 15)
FICTIONAL_PHONE = re.compile(r"^\d{3}-555-01\d\d$")
# The first 300 listings of seed 3 (as of AS_OF) as the generator drew them before
# listings had service lines (commit 08b840a): place fields with the IOP schedule,
# ownership and terms, as JSON with sorted keys. The SA line and the place must still
# be exactly that, or the benchmark data would change.
BEFORE_LINES_SHA256 = "c0427d728c62bf7e80f4fd9ab3860dbf4d147d4637f8a183a2c3b5a46159f051"
MENTAL_HEALTH_CODES = {code for code, _ in synthetic.MENTAL_HEALTH_SHARES}
SCHEDULE_DEFAULTS = {
    name: ServiceLine._meta.get_field(name).get_default() for name in SCHEDULE_FIELDS
}


def generate(count, seed=7, **options):
    return list(Generator(seed, "synthetic", as_of=AS_OF).listings(count, **options))


@pytest.fixture(scope="module")
def sample():
    """2,000 listings straight from the generator, for the distributions."""
    return generate(2000, seed=11)


def share(listings, test):
    return sum(1 for listing in listings if test(listing)) / len(listings)


def line(listing, kind="SA"):
    return next((line for line in listing["lines"] if line["kind"] == kind), None)


def offers(listing, field, code):
    """Whether the listing's SA line (what every listing has) offers `code`."""
    return code in line(listing)["terms"][field]


def as_before_lines(listing):
    """A listing as the generator gave it before service lines: the SA line merged in."""
    sa = line(listing)
    return {
        "fields": {**listing["fields"], **sa["fields"]},
        "ownership": listing["ownership"],
        "terms": sa["terms"],
    }


def test_same_seed_gives_identical_listings():
    assert generate(150, seed=3) == generate(150, seed=3)


def test_different_seed_gives_different_listings():
    first, second = generate(150, seed=3), generate(150, seed=4)
    assert [row["fields"]["slug"] for row in first] != [row["fields"]["slug"] for row in second]
    assert [line(row, "MH") for row in first] != [line(row, "MH") for row in second]


def test_places_and_sa_lines_are_drawn_exactly_as_before_there_were_lines():
    rows = [as_before_lines(listing) for listing in generate(300, seed=3)]
    data = json.dumps(rows, sort_keys=True, default=str).encode()
    assert hashlib.sha256(data).hexdigest() == BEFORE_LINES_SHA256


@pytest.mark.parametrize("mh_share", [0.0, 1.0])
def test_mental_health_lines_do_not_change_the_places_or_their_sa_lines(monkeypatch, mh_share):
    usual = generate(200, seed=8)
    monkeypatch.setattr(synthetic, "MH_LINE_SHARE", {True: mh_share, False: mh_share})
    other = generate(200, seed=8)
    assert [as_before_lines(row) for row in other] == [as_before_lines(row) for row in usual]
    assert all(len(row["lines"]) == (2 if mh_share else 1) for row in other)


def test_every_listing_has_an_sa_line_first_and_some_an_mh_line(sample):
    assert all(row["lines"][0]["kind"] == "SA" for row in sample)
    assert all([ln["kind"] for ln in row["lines"]] in (["SA"], ["SA", "MH"]) for row in sample)
    co_occurring = [row for row in sample if row["fields"]["co_occurring"]]
    separate = [row for row in sample if not row["fields"]["co_occurring"]]
    assert 0.27 <= share(co_occurring, lambda r: line(r, "MH") is not None) <= 0.40
    assert 0.04 <= share(separate, lambda r: line(r, "MH") is not None) <= 0.18


def test_mh_lines_are_mental_health_programs_that_differ_from_the_sa_line(sample):
    with_mh = [row for row in sample if line(row, "MH")]
    assert len(with_mh) > 300

    def mh_has(field, code):
        return lambda row: code in line(row, "MH")["terms"][field]

    for row in with_mh:
        sa, mh = line(row)["terms"], line(row, "MH")["terms"]
        # Medicaid is always added or dropped: the two lines never promise the same payment.
        assert ("MD" in sa["payment_options"]) != ("MD" in mh["payment_options"])
        assert mh["payment_options"]
        for field in ("age_groups", "genders", "languages", "payment_assistance"):
            assert mh[field] == sa[field], field
        assert mh["levels_of_care"] and set(mh["levels_of_care"]) <= {"ORT", "OIT", "TELE"}
        # What it treats is mental health (with co-occurring disorders where the place
        # treats both together), never a substance use disorder.
        assert mh["conditions"] and set(mh["conditions"]) <= MENTAL_HEALTH_CODES | {"COD"}
        assert ("COD" in mh["conditions"]) == row["fields"]["co_occurring"]
        assert set(mh["medications"]) <= {"MPD"}
        assert "DUI" not in mh["populations"]
        assert mh["approaches"]
        for terms in (sa, mh):
            for field, codes in terms.items():
                assert len(codes) == len(set(codes)), (field, codes)  # links are unique
    assert share(with_mh, mh_has("levels_of_care", "ORT")) >= 0.90
    assert 0.08 <= share(with_mh, mh_has("levels_of_care", "OIT")) <= 0.24
    assert 0.75 <= share(with_mh, mh_has("medications", "MPD")) <= 0.93
    assert 0.75 <= share(with_mh, mh_has("accreditations", "SMHA")) <= 0.93
    assert share(with_mh, mh_has("approaches", "CBT")) >= 0.80
    assert 0.35 <= share(with_mh, mh_has("approaches", "DBT")) <= 0.65
    assert share(with_mh, mh_has("conditions", "DEP")) >= 0.75
    # The case is common: an SA line without Medicaid beside an MH line with it.
    assert share(with_mh, lambda r: not offers(r, "payment_options", "MD")) >= 0.2


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


def test_iop_schedule_is_set_exactly_for_iop_lines_and_coherent(sample):
    assert not any(set(SCHEDULE_FIELDS) & set(row["fields"]) for row in sample)  # the place's
    iop_lines = Counter()
    for row in sample:
        for ln in row["lines"]:
            fields = ln["fields"]
            assert set(fields) <= set(SCHEDULE_FIELDS)
            if "OIT" not in ln["terms"]["levels_of_care"]:
                assert set(fields) == {"transportation_assistance"}
                continue
            iop_lines[ln["kind"]] += 1
            assert_coherent_schedule(fields)
    assert iop_lines["SA"] > 900 and iop_lines["MH"] > 20


def assert_coherent_schedule(fields):
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


def stored_lines():
    """{(slug, kind): (terms by field, schedule)} of every service line in the database."""
    lines = ServiceLine.objects.select_related("facility").prefetch_related(*TERM_FIELDS)
    return {
        (ln.facility.slug, ln.kind): (
            {
                field: sorted(term.code for term in getattr(ln, field).all())
                for field in TERM_FIELDS
            },
            {name: getattr(ln, name) for name in SCHEDULE_FIELDS},
        )
        for ln in lines
    }


def drawn_lines(listings):
    """The same, from the generator's listings."""
    return {
        (row["fields"]["slug"], ln["kind"]): (
            {field: sorted(codes) for field, codes in ln["terms"].items()},
            {**SCHEDULE_DEFAULTS, **ln["fields"]},
        )
        for row in listings
        for ln in row["lines"]
    }


@pytest.mark.django_db
def test_command_creates_valid_fictional_listings_with_their_lines():
    call_command("generate_facilities", count=300, seed=5, as_of=AS_OF, verbosity=0)
    listings = Facility.objects.all()
    assert listings.count() == 300
    assert set(listings.values_list("source", flat=True)) == {Facility.Source.SYNTHETIC}
    for facility in listings[:60]:
        facility.full_clean()  # every validator the admin would apply
    for service_line in ServiceLine.objects.prefetch_related("payment_options")[:80]:
        service_line.full_clean()
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
    # The lines and their terms went in by hand (bulk_create, then plain link rows):
    # each must hold exactly what the generator drew for it, in the right vocabulary.
    expected = drawn_lines(Generator(5, "synthetic", as_of=AS_OF).listings(300))
    assert stored_lines() == expected
    kinds = Counter(kind for _, kind in expected)
    assert kinds["SA"] == 300 and 40 <= kinds["MH"] <= 120
    for field, group in TERM_FIELDS.items():
        through = getattr(ServiceLine, field).through
        assert not through.objects.exclude(term__group=group).exists(), field
    assert ServiceLine.payment_options.through.objects.count() > 300
    iop = ServiceLine.objects.filter(levels_of_care__code="OIT")
    assert 0.45 <= iop.filter(kind="SA").count() / 300 <= 0.65
    assert iop.filter(kind="MH").exists()
    assert not iop.filter(hours_per_week_min__isnull=True).exists()
    assert not ServiceLine.objects.exclude(pk__in=iop).exclude(hours_per_week_min=None).exists()


@pytest.mark.django_db
def test_replace_regenerates_the_same_listings_and_keeps_other_sources():
    real = make_facility(name="Real Clinic", payments=["MD"])
    call_command("generate_facilities", count=120, seed=9, as_of=AS_OF, verbosity=0)
    generated = Facility.objects.filter(source="synthetic")
    ProblemReport.objects.create(facility=generated.first(), category="phone", message="x")
    ProblemReport.objects.create(facility=real, category="phone", message="Wrong number")

    def snapshot():
        listings = [(f.slug, f.phone, f.latitude) for f in generated.order_by("slug")]
        return listings, stored_lines()

    before = snapshot()
    history = (Facility.history.count(), ServiceLine.history.count())
    version = data_version.key()
    out = StringIO()
    call_command("generate_facilities", count=120, seed=9, as_of=AS_OF, replace=True, stdout=out)
    assert snapshot() == before
    assert generated.count() == 120
    assert ServiceLine.objects.filter(facility=real).count() == 1
    assert stored_lines()[(real.slug, "SA")][0]["payment_options"] == ["MD"]
    assert list(ProblemReport.objects.values_list("message", flat=True)) == ["Wrong number"]
    # Deleted a table at a time: no history entry per fictional row, one version bump.
    lines = [terms for (slug, _), (terms, _) in before[1].items() if slug != real.slug]
    rows = 120 + len(lines) + sum(len(codes) for terms in lines for codes in terms.values()) + 1
    assert f"Deleted earlier synthetic listings ({rows:,} rows with their links)" in out.getvalue()
    assert (Facility.history.count(), ServiceLine.history.count()) == history
    assert data_version.key() != version


@pytest.mark.django_db
def test_generating_again_without_replace_adds_listings_with_unique_slugs():
    call_command("generate_facilities", count=50, seed=9, verbosity=0)
    call_command("generate_facilities", count=50, seed=9, verbosity=0)
    assert Facility.objects.count() == 100
    assert Facility.objects.values("slug").distinct().count() == 100
    assert ServiceLine.objects.filter(kind="SA").count() == 100


@pytest.mark.django_db
def test_command_rejects_bad_options_without_writing():
    with pytest.raises(CommandError):
        call_command("generate_facilities", states="MS,ZZ", count=5, verbosity=0)
    with pytest.raises(CommandError):
        call_command("generate_facilities", states="MS", verbosity=0)  # no count
    with pytest.raises(CommandError):
        call_command("generate_facilities", count=5, iop_share=1.5, verbosity=0)
    assert not Facility.objects.exists()
    assert not ServiceLine.objects.exists()


def fixture_counts():
    links = sum(getattr(ServiceLine, field).through.objects.count() for field in TERM_FIELDS)
    return Facility.objects.count(), ServiceLine.objects.count(), links


@pytest.mark.django_db
def test_demo_fixture_loads_twice_into_a_database_with_other_listings_without_duplicates():
    # One test, because loading 160 listings by natural keys takes seconds.
    other = make_facility(name="Real Clinic", payments=["PI"])
    call_command("loaddata", str(FIXTURE), verbosity=0)
    demo = Facility.objects.filter(source=Facility.Source.DEMO)
    assert demo.count() == Facility.objects.count() - 1 >= 150
    states = Counter(demo.values_list("state", flat=True))
    assert len(states) >= 8 and {"MS", "VA"} <= set(states)
    assert 25 <= states["MS"] <= 35
    mississippi_iop = demo.filter(state="MS", lines__levels_of_care__code="OIT").distinct()
    assert mississippi_iop.count() > states["MS"] / 2
    assert demo.filter(status="published").count() >= 0.9 * demo.count()
    assert len(set(demo.values_list("ownership__code", flat=True))) >= 5
    co_occurring = demo.filter(co_occurring=True).count() / demo.count()
    assert 0.7 <= co_occurring <= 0.95
    assert all(FICTIONAL_PHONE.match(phone) for phone in demo.values_list("phone", flat=True))
    assert not demo.exclude(website__endswith=".example.org").exists()
    assert demo.filter(lines__payment_options__code="MD").exists()
    assert demo.filter(lines__populations__code="VET").exists()
    # Every listing has its SA line; some an MH line, whose Medicaid differs from the SA's.
    lines = ServiceLine.objects.filter(facility__source=Facility.Source.DEMO)
    assert lines.filter(kind="SA").count() == demo.count()
    mental_health = lines.filter(kind="MH")
    assert 0.2 * demo.count() <= mental_health.count() <= 0.45 * demo.count()
    medicaid = ServiceLine.objects.filter(payment_options__code="MD")
    for mh in mental_health.select_related("facility"):
        sa = mh.facility.lines.get(kind="SA")
        assert medicaid.filter(pk=mh.pk).exists() != medicaid.filter(pk=sa.pk).exists()
    assert list(other.lines.values_list("kind", "payment_options__code")) == [("SA", "PI")]

    counts = fixture_counts()
    call_command("loaddata", str(FIXTURE), verbosity=0)
    assert fixture_counts() == counts
    assert Term.objects.get_by_natural_key("payment", "MD").label == "Medicaid"


def demo_fixture_command():
    """The arguments `make demo-fixture` gives generate_facilities, read from the Makefile."""
    makefile = (ROOT / "Makefile").read_text().replace("\\\n", " ")
    recipe = re.search(
        r"^demo-fixture:.*\n\t\$\(MANAGE\) generate_facilities (.*)$", makefile, re.M
    )
    assert recipe, "the Makefile's demo-fixture target runs generate_facilities"
    return shlex.split(recipe.group(1))


@pytest.mark.django_db
def test_demo_fixture_is_what_make_demo_fixture_produces(tmp_path):
    # Fails when the generator changes: regenerate with `make demo-fixture`.
    args = demo_fixture_command()
    target = args.index("--fixture") + 1
    assert args[target] == "fixtures/demo_facilities.json"
    output = tmp_path / "demo.json"
    args[target] = str(output)
    call_command("generate_facilities", *args, verbosity=0)
    assert output.read_text() == FIXTURE.read_text()
    assert not Facility.objects.exists()  # --fixture leaves the database as it was
    assert not ServiceLine.objects.exists()


@pytest.mark.django_db
def test_demo_fixture_does_not_depend_on_the_demo_listings_loaded_and_leaves_them(tmp_path):
    call_command("loaddata", str(FIXTURE), verbosity=0)
    ServiceLine.objects.filter(kind="MH").first().payment_options.clear()  # edited in admin
    counts = fixture_counts()
    output = tmp_path / "demo.json"
    args = demo_fixture_command()
    args[args.index("--fixture") + 1] = str(output)
    call_command("generate_facilities", *args, verbosity=0)
    assert output.read_text() == FIXTURE.read_text()
    assert fixture_counts() == counts
