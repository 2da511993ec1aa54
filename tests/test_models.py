import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from facilities.models import Facility, ServiceLine, Term
from facilities.vocabulary import VOCABULARY


def make_facility(**fields):
    values = {"name": "Hope Recovery", "city": "Jackson", "state": "MS", "zip": "39201"}
    values.update(fields)
    return Facility.objects.create(**values)


@pytest.mark.django_db
def test_every_builtin_vocabulary_term_is_present_after_migrate():
    for group, entries in VOCABULARY.items():
        codes = set(Term.objects.filter(group=group).values_list("code", flat=True))
        assert {entry[0] for entry in entries} <= codes, group


@pytest.mark.django_db
def test_federal_family_hangs_under_fed():
    children = Term.objects.filter(group="ownership", parent__code="FED")
    assert set(children.values_list("code", flat=True)) == {"VAMC", "DDF", "IH"}


@pytest.mark.django_db
def test_term_codes_are_unique_within_a_group_but_not_across_groups():
    # MI is military insurance (payment) and motivational interviewing (approach).
    assert Term.objects.filter(code="MI").count() == 2
    with pytest.raises(IntegrityError), transaction.atomic():
        Term.objects.create(group="payment", code="MI", label="Duplicate")


@pytest.mark.django_db
def test_slug_is_readable_unique_and_stable():
    first = make_facility(program_name="Evening IOP")
    second = make_facility(program_name="Evening IOP")
    assert first.slug == "hope-recovery-evening-iop-jackson-ms"
    assert second.slug == "hope-recovery-evening-iop-jackson-ms-2"
    first.name = "Hope Recovery Center"
    first.save()
    first.refresh_from_db()
    assert first.slug == "hope-recovery-evening-iop-jackson-ms"


@pytest.mark.django_db
def test_city_key_matches_spellings_of_the_same_city():
    a = make_facility(city="St. Louis", state="MO", zip="63101")
    b = make_facility(city="SAINT LOUIS", state="MO", zip="63101")
    assert a.city_key == b.city_key == "saint louis"
    assert a.city_slug == "saint-louis"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "field, value",
    [
        ("zip", "3920"),
        ("zip", "ABCDE"),
        ("state", "XX"),
        ("phone", "call us"),
        ("website", "not a url"),
        ("latitude", 123.0),
    ],
)
def test_invalid_values_are_rejected_by_validation(field, value):
    values = {"name": "X", "city": "Jackson", "state": "MS", "zip": "39201", field: value}
    facility = Facility(**values)
    with pytest.raises(ValidationError) as error:
        facility.full_clean()
    assert field in error.value.message_dict


@pytest.mark.django_db
def test_a_lines_hours_below_one_are_rejected_by_validation():
    facility = Facility.objects.create(name="X", city="Jackson", state="MS", zip="39201")
    line = ServiceLine(facility=facility, hours_per_week_min=0)
    with pytest.raises(ValidationError) as error:
        line.full_clean()
    assert "hours_per_week_min" in error.value.message_dict


@pytest.mark.django_db
def test_hours_minimum_above_maximum_is_rejected_by_clean_and_database():
    facility = Facility.objects.create(name="X", city="Jackson", state="MS", zip="39201")
    line = ServiceLine(facility=facility, hours_per_week_min=12, hours_per_week_max=9)
    with pytest.raises(ValidationError):
        line.full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        line.save()


@pytest.mark.django_db
def test_a_place_has_at_most_one_line_of_each_kind():
    facility = Facility.objects.create(name="X", city="Jackson", state="MS", zip="39201")
    ServiceLine.objects.create(facility=facility, kind="SA")
    ServiceLine.objects.create(facility=facility, kind="MH")
    with pytest.raises(IntegrityError), transaction.atomic():
        ServiceLine.objects.create(facility=facility, kind="SA")


@pytest.mark.django_db
def test_phone_with_extension_is_valid():
    facility = Facility(name="X", city="Jackson", state="MS", zip="39201", phone="601-555-0100 x12")
    facility.full_clean()


@pytest.mark.django_db
def test_published_queryset_hides_drafts_and_archived():
    make_facility(name="Draft", status=Facility.Status.DRAFT)
    make_facility(name="Gone", status=Facility.Status.ARCHIVED)
    live = make_facility(name="Live", status=Facility.Status.PUBLISHED)
    assert list(Facility.objects.published()) == [live]


@pytest.mark.django_db
def test_source_key_is_unique_per_source():
    make_facility(source=Facility.Source.FINDTREATMENT, source_key="abc")
    make_facility(source=Facility.Source.FINDTREATMENT, source_key="")
    make_facility(source=Facility.Source.FINDTREATMENT, source_key="")
    with pytest.raises(IntegrityError), transaction.atomic():
        make_facility(source=Facility.Source.FINDTREATMENT, source_key="abc")


@pytest.mark.django_db
def test_a_listing_without_coordinates_gets_its_zip_centre_marked_approximate():
    facility = make_facility(zip="38655", city="Oxford")
    assert (facility.latitude, facility.longitude) == pytest.approx((34.3308, -89.4835))
    assert facility.location_approximate is True
    placed = make_facility(zip="38655", city="Oxford", latitude=34.36, longitude=-89.52)
    assert placed.location_approximate is False
    unknown = make_facility(zip="00000")
    assert unknown.latitude is None and not unknown.location_approximate
