"""What a facility looks like in the API.

List items carry vocabulary codes (look labels up once from vocabularies/);
the detail carries {code, label} pairs. List items are made from listing rows
(rows.py: the columns every list reads, lines attached), the detail from a model
with its lines attached (rows.read_models), so the query count does not grow
with the page.

A listing's facts are its service lines' (substance use, mental health): the
detail carries them as `service_lines`; the flat fields of an item and of the
detail are the union over its lines, and `iop` is the schedule of the line that
offers IOP (rows.flat).
"""

import functools
from collections.abc import Callable
from datetime import tzinfo
from typing import NamedTuple

from django.utils import timezone
from django.utils.functional import cached_property
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from .. import rows
from ..models import TERM_FIELDS, Facility, ServiceLine, Term, facility_url


class TermSerializer(serializers.ModelSerializer):
    class Meta:
        model = Term
        fields = ["code", "label"]


@extend_schema_field(OpenApiTypes.STR)  # a code; the schema cannot follow "offered."
class TermCodeField(serializers.SlugRelatedField):
    """A vocabulary term as its code."""


def codes(name, **kwargs):
    """A flat vocabulary field of a listing as codes: the union over its lines."""
    return TermCodeField(
        slug_field="code", many=True, read_only=True, source=f"offered.{name}", **kwargs
    )


class IopSerializer(serializers.ModelSerializer):
    """The IOP schedule: program details national locators do not carry (null when not
    known). In a service line, that line's; in a listing's flat `iop`, the schedule of its
    line that offers IOP (else of its first line), with `virtual` true when any line
    offers virtual sessions."""

    daytime = serializers.BooleanField(source="offers_daytime")
    evening = serializers.BooleanField(source="offers_evening")
    weekend = serializers.BooleanField(source="offers_weekend")
    virtual = serializers.BooleanField(source="offers_virtual")

    class Meta:
        model = ServiceLine
        fields = [
            "hours_per_week_min",
            "hours_per_week_max",
            "sessions_per_week",
            "session_length_minutes",
            "duration_weeks",
            "daytime",
            "evening",
            "weekend",
            "virtual",
        ]


def _iso_datetime(value, zone):
    """As DRF's DateTimeField gives it: ISO 8601 in the site's time zone, "Z" for UTC."""
    if not value:
        return None
    text = value.astimezone(zone).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


class ItemPage(NamedTuple):
    """What the items of one page share."""

    origin: str  # https://host, or "" for paths
    zone: tzinfo  # the site's time zone
    url_of: Callable[[str], str]  # slug -> the listing's path


@functools.cache
def _iop_columns():
    """[(IopSerializer field, listing column)], as IopSerializer declares them."""
    return [(name, field.source) for name, field in IopSerializer().fields.items()]


def _codes(field_name):
    return lambda row, page: [term.code for term in row[field_name]]


def _distance(row, page):
    distance = row.get("distance_miles")
    return round(distance, 1) if distance is not None else None


def _ownership(row, page):
    if row["ownership__code"] is None:
        return None
    return {"code": row["ownership__code"], "label": row["ownership__label"]}


# The list item's fields that are not a column of rows.LIST_COLUMNS under the same name.
_ITEM_COMPUTED = {
    "distance_miles": _distance,
    "ownership": _ownership,
    **{name: _codes(name) for name in rows.LIST_TERM_FIELDS if name != "payment_assistance"},
    "financial_assistance": lambda row, page: bool(row["payment_assistance"]),
    "iop": lambda row, page: {name: row[column] for name, column in _iop_columns()},
    "url": lambda row, page: page.origin + page.url_of(row["slug"]),
    "verified_at": lambda row, page: row["verified_at"].isoformat() if row["verified_at"] else None,
    "updated_at": lambda row, page: _iso_datetime(row["updated_at"], page.zone),
    "fictional": lambda row, page: row["source"] in Facility.FICTIONAL_SOURCES,
}


class FacilityListSerializer(serializers.ModelSerializer):
    """A listing in a list: flat. A place may have two service lines (substance use and
    mental health treatment) with different care, payment and populations; an item's
    vocabularies are the union over its lines and `iop` the schedule of the line that
    offers IOP. The listing's detail carries each line (`service_lines`)."""

    ownership = TermSerializer(read_only=True, allow_null=True)
    levels_of_care = codes("levels_of_care", help_text="Over all its service lines.")
    payment_options = codes("payment_options", help_text="Over all its service lines.")
    financial_assistance = serializers.SerializerMethodField(
        help_text="Offers a sliding fee scale or other payment assistance (in any line)."
    )
    populations = codes("populations", help_text="Over all its service lines.")
    iop = IopSerializer(source="offered", read_only=True)
    url = serializers.SerializerMethodField(help_text="The listing's public page.")
    distance_miles = serializers.SerializerMethodField(
        help_text="Miles from the `near` place (to 0.1 mile); null without `near`."
    )
    fictional = serializers.BooleanField(
        source="is_fictional", read_only=True, help_text="Demo or generated data, not a real place."
    )

    class Meta:
        model = Facility
        fields = [
            "id",
            "slug",
            "name",
            "program_name",
            "street1",
            "street2",
            "city",
            "state",
            "zip",
            "latitude",
            "longitude",
            "location_approximate",
            "distance_miles",
            "phone",
            "intake_phone",
            "website",
            "ownership",
            "co_occurring",
            "levels_of_care",
            "payment_options",
            "financial_assistance",
            "populations",
            "iop",
            "url",
            "verified_at",
            "updated_at",
            "fictional",
        ]

    def to_representation(self, row):
        """The item from a listing row (rows.read / rows.chunks: a dict, terms attached).

        Written out, not DRF's generic fields: it is built 50 times a page, and the generic
        path (with a model per listing) cost more than the search. Tests check it equals
        what the declared fields, and so the OpenAPI schema, give for the same listing.
        """
        return self.item(row, self._per_request)

    @classmethod
    def item(cls, row, page):
        """A list item from a listing row and what every item of a page shares
        (ItemPage: the site's origin, the time zone, how a listing's path is made)."""
        item = {}
        for name in cls.Meta.fields:
            if name in _ITEM_COMPUTED:
                item[name] = _ITEM_COMPUTED[name](row, page)
            else:
                item[name] = row[name]  # a column of rows.LIST_COLUMNS under its own name
        return item

    @cached_property
    def _per_request(self):
        """What every item of a page shares: the site's origin and the time zone."""
        request = self.context.get("request")
        origin = request.build_absolute_uri("/")[:-1] if request else ""
        return ItemPage(origin, timezone.get_current_timezone(), facility_url)

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_financial_assistance(self, facility):
        return bool(facility.offered["payment_assistance"])

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, facility):
        url = facility.get_absolute_url()
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request else url

    @extend_schema_field({"type": "number", "format": "double", "nullable": True})
    def get_distance_miles(self, facility):
        distance = getattr(facility, "distance_miles", None)
        return round(distance, 1) if distance is not None else None


def labelled(**kwargs):
    return TermSerializer(many=True, read_only=True, **kwargs)


class ServiceLineSerializer(serializers.ModelSerializer):
    """One program of the place, as its source gave it: its care, payment, who it serves."""

    kind = serializers.ChoiceField(
        choices=ServiceLine.Kind.choices,
        read_only=True,
        help_text="SA: substance use treatment; MH: mental health treatment.",
    )
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    iop = IopSerializer(source="*", read_only=True)

    class Meta:
        model = ServiceLine
        fields = ["kind", "kind_label", *TERM_FIELDS, "iop", "transportation_assistance"]

    def build_relational_field(self, field_name, relation_info):
        return TermSerializer, {"many": True, "read_only": True}


def _detail_fields():
    """The list item's fields (less distance), more contact detail, every vocabulary
    (flat: over all lines) and the service lines themselves."""
    fields = [name for name in FacilityListSerializer.Meta.fields if name != "distance_miles"]
    fields += ["state_name", "county", "hotline", "email", "description"]
    fields += ["transportation_assistance"]
    return fields + [name for name in TERM_FIELDS if name not in fields] + ["service_lines"]


class FacilityDetailSerializer(FacilityListSerializer):
    """A listing with everything known about it, codes with labels. Its facts are its
    service lines': `service_lines` gives each line's own care, payment and populations;
    the flat vocabularies are the union over the lines, as in a list item, and `iop` and
    `transportation_assistance` are those of the line that offers IOP."""

    state_name = serializers.CharField(read_only=True)
    levels_of_care = labelled(source="offered.levels_of_care")
    payment_options = labelled(source="offered.payment_options")
    payment_assistance = labelled(source="offered.payment_assistance")
    populations = labelled(source="offered.populations")
    age_groups = labelled(source="offered.age_groups")
    genders = labelled(source="offered.genders")
    languages = labelled(source="offered.languages")
    medications = labelled(source="offered.medications")
    approaches = labelled(source="offered.approaches")
    therapies = labelled(source="offered.therapies")
    conditions = labelled(source="offered.conditions")
    services = labelled(source="offered.services")
    accreditations = labelled(source="offered.accreditations")
    transportation_assistance = serializers.BooleanField(
        source="offered.transportation_assistance",
        read_only=True,
        help_text="The line that offers IOP helps with transportation (see service_lines).",
    )
    service_lines = ServiceLineSerializer(
        many=True,
        read_only=True,
        help_text="The place's programs (substance use, mental health), each with its own "
        "care, payment and populations as its source gave them. A search's conditions are "
        "met by one line together; the flat fields above are the union over the lines.",
    )

    class Meta(FacilityListSerializer.Meta):
        fields = _detail_fields()

    def to_representation(self, facility):
        # One item a request: DRF's generic fields (with labels) are cheap enough here.
        return serializers.ModelSerializer.to_representation(self, facility)


# Shapes of the other endpoints, for the schema (the views build plain dicts).


class VocabularyTermSerializer(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()
    description = serializers.CharField()
    parent = serializers.CharField(
        allow_null=True, help_text="Filtering on the parent code also finds this term."
    )


class VocabularyGroupSerializer(serializers.Serializer):
    group = serializers.CharField()
    label = serializers.CharField()
    parameter = serializers.CharField(
        allow_null=True, help_text="The facilities/ filter that takes these codes, if any."
    )
    field = serializers.CharField(
        allow_null=True, help_text="The facility field that lists these codes."
    )
    terms = VocabularyTermSerializer(many=True)


class VocabulariesSerializer(serializers.Serializer):
    groups = VocabularyGroupSerializer(many=True)


class StateCountSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    facility_count = serializers.IntegerField()
    facilities_url = serializers.URLField()
    summary_url = serializers.URLField()


class StatesSerializer(serializers.Serializer):
    results = StateCountSerializer(many=True)


class CityCountSerializer(serializers.Serializer):
    city = serializers.CharField()
    count = serializers.IntegerField()


class StateSummarySerializer(serializers.Serializer):
    state = serializers.CharField()
    state_name = serializers.CharField()
    facility_count = serializers.IntegerField()
    ownership = serializers.DictField(
        child=serializers.IntegerField(),
        help_text="Listings by ownership code; FED includes VAMC, DDF and IH.",
    )
    co_occurring_count = serializers.IntegerField()
    payment_options = serializers.DictField(child=serializers.IntegerField())
    financial_assistance_count = serializers.IntegerField()
    populations = serializers.DictField(child=serializers.IntegerField())
    cities = CityCountSerializer(many=True, help_text="Cities with the most listings.")


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()


def constant(value):
    """A string field that is always `value` (documented inline, not as a shared enum)."""
    field_class = type(f"Constant{value}Field", (serializers.CharField,), {})
    extend_schema_field({"type": "string", "pattern": f"^{value}$"})(field_class)
    return field_class(read_only=True, default=value)


class GeoJSONPointSerializer(serializers.Serializer):
    type = constant("Point")
    coordinates = serializers.ListField(
        child=serializers.FloatField(),
        min_length=2,
        max_length=2,
        help_text="[longitude, latitude]",
    )


class GeoJSONFeatureSerializer(serializers.Serializer):
    type = constant("Feature")
    id = serializers.IntegerField()
    geometry = GeoJSONPointSerializer(allow_null=True, help_text="null when not located.")
    properties = FacilityListSerializer()


@extend_schema_serializer(many=False)  # one collection, not a page of them
class GeoJSONFeatureCollectionSerializer(serializers.Serializer):
    """Every matching listing (not a page), streamed."""

    type = constant("FeatureCollection")
    features = GeoJSONFeatureSerializer(many=True)
