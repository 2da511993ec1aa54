"""The one FilterSet: the search page, the CSV export and the API all filter with it.

Parameter names and meanings are public (URLs and the partner API). Several
values of one parameter mean OR (payment=MD&payment=MI: Medicaid or military
insurance); different parameters combine with AND. Each filter's label, limits
and parsing come from its row in search/params.py; what it does to the query is here.

Filters on a service line (params.LINE: care, payment, who it serves, schedule) do
not filter listings one by one: each adds a condition on a line, and the listing is
found when one of its lines meets them all (IOP and Medicaid in the same program).
"""

import copy

import django_filters
from django import forms
from django.db.models import F, Q
from django.http import QueryDict

from .. import geo, selectors
from .. import vocabulary as vocab
from ..models import Facility
from ..text import normalize_city
from . import params, places
from .params import BY_NAME, DEFAULT_RADIUS_MILES


class SharedCopyMixin:
    """A form field copied shallowly: every search builds the form afresh, and deep copies
    of these fields (their 56 states or vocabulary choices, their widgets) were a tenth of
    an API request. Nothing changes a field per request; the widgets are never rendered
    (the templates write their own inputs)."""

    def __deepcopy__(self, memo):
        return copy.copy(self)


class StrictBooleanField(SharedCopyMixin, forms.Field):
    """true/false (also 1/0, yes/no, on/off); anything else is an error, not silently ignored."""

    def to_python(self, value):
        try:
            return params.parse_boolean(value)
        except ValueError:
            raise forms.ValidationError("Use true or false.", code="invalid") from None


class StrictBooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField


class UpperCaseMultipleChoiceField(SharedCopyMixin, forms.MultipleChoiceField):
    """Codes are upper case; accept "md" for "MD" and "MD,MI" for two values."""

    def to_python(self, value):
        return params.split_codes(super().to_python([value] if isinstance(value, str) else value))


class CodeFilter(django_filters.MultipleChoiceFilter):
    field_class = UpperCaseMultipleChoiceField

    def __init__(self, *args, **kwargs):
        # A column of the listing itself: no join, so no duplicates to remove, and a
        # DISTINCT over every column would sort all matching rows on every page.
        kwargs.setdefault("distinct", False)
        super().__init__(*args, **kwargs)


class TermFilter(CodeFilter):
    """Codes from one vocabulary group, a condition on a service line; several codes mean
    OR; a parent code finds its children."""

    def __init__(self, *args, group, field_name, **kwargs):
        self.group = group
        kwargs.setdefault("choices", lambda: selectors.term_choices(group))
        super().__init__(*args, field_name=field_name, **kwargs)

    def filter(self, queryset, value):
        if value:
            ids = selectors.term_ids(self.group, value)
            self.parent.add_line_condition(selectors.line_has_any_term(self.field_name, ids))
        return queryset


class OwnershipFilter(TermFilter):
    """Ownership is the place's, a single foreign key, not a many-to-many."""

    def filter(self, queryset, value):
        if not value:
            return queryset
        return queryset.filter(ownership_id__in=selectors.term_ids(self.group, value))


def _words(name):
    """A filter's label, help text and limits from its row in search/params.py."""
    param = BY_NAME[name]
    kwargs = {"label": param.label}
    if param.help:
        kwargs["help_text"] = param.help
    for limit in ("max_length", "min_value", "max_value"):
        if getattr(param, limit) is not None:
            kwargs[limit] = getattr(param, limit)
    if param.kind == params.TERMS:
        kwargs.update(group=param.group, field_name=param.field)
    elif param.kind in (params.CODES, params.CHOICE):
        kwargs["choices"] = list(param.choices)
    return kwargs


class FacilityFilterSet(django_filters.FilterSet):
    # In params.PARAMS order (the API schema lists them so); a test checks both agree.
    q = django_filters.CharFilter(method="filter_text", **_words("q"))
    city = django_filters.CharFilter(method="filter_city", **_words("city"))
    state = CodeFilter(**_words("state"))
    zip = django_filters.CharFilter(method="filter_zip", **_words("zip"))
    near = django_filters.CharFilter(method="filter_nothing", **_words("near"))
    radius = django_filters.NumberFilter(method="filter_nothing", **_words("radius"))
    level_of_care = TermFilter(**_words("level_of_care"))
    payment = TermFilter(**_words("payment"))
    financial_assistance = StrictBooleanFilter(
        method="filter_financial_assistance", **_words("financial_assistance")
    )
    ownership = OwnershipFilter(**_words("ownership"))
    population = TermFilter(**_words("population"))
    co_occurring = StrictBooleanFilter(field_name="co_occurring", **_words("co_occurring"))
    age = TermFilter(**_words("age"))
    language = TermFilter(**_words("language"))
    medication = TermFilter(**_words("medication"))
    telehealth = StrictBooleanFilter(method="filter_telehealth", **_words("telehealth"))
    evening = StrictBooleanFilter(method="filter_evening", **_words("evening"))
    max_hours_per_week = django_filters.NumberFilter(
        method="filter_max_hours", **_words("max_hours_per_week")
    )
    ordering = django_filters.ChoiceFilter(
        method="filter_nothing", empty_label=None, **_words("ordering")
    )

    class Meta:
        model = Facility
        fields = []

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None):
        # As django-filter's, but the filters are copied shallowly: its deep copy of every
        # filter, choices and all, was a twentieth of a search. A filter keeps no state
        # of its own during a search beyond the parent and model set here.
        if queryset is None:
            queryset = self._meta.model._default_manager.all()
        self.is_bound = data is not None
        self.data = data or QueryDict()
        self.queryset = queryset
        self.request = request
        self.form_prefix = prefix
        self.filters = {}
        self.line_conditions = []
        for name, base_filter in self.base_filters.items():
            filter_ = copy.copy(base_filter)
            if filter_.method is not None:
                filter_.method = filter_.method  # binds the method to this copy
            filter_.model = queryset.model
            filter_.parent = self
            self.filters[name] = filter_

    def get_form_class(self):
        # The form's fields depend on the filters' declarations only (choices are read
        # when validating), so one class serves every search; django-filter builds a
        # new class with new fields per FilterSet.
        cls = type(self)
        if "_form_class" not in cls.__dict__:
            cls._form_class = super().get_form_class()
        return cls._form_class

    # Filters whose work happens in filter_queryset, where near/radius/ordering meet.
    def filter_nothing(self, queryset, name, value):
        return queryset

    def filter_text(self, queryset, name, value):
        for word in value.split()[:10]:
            queryset = queryset.filter(
                Q(name__icontains=word)
                | Q(program_name__icontains=word)
                | Q(city__icontains=word)
                | Q(zip__startswith=word)
            )
        return queryset

    def filter_city(self, queryset, name, value):
        return queryset.filter(city_key=normalize_city(value))

    def filter_zip(self, queryset, name, value):
        return queryset.filter(zip__startswith=value.strip()[:5])

    def add_line_condition(self, condition):
        """A condition one service line must meet, with the search's other line conditions."""
        self.line_conditions.append(condition)

    def filter_financial_assistance(self, queryset, name, value):
        if value is not None:
            has_assistance = selectors.line_has_any_in_field("payment_assistance")
            self.add_line_condition(has_assistance if value else ~has_assistance)
        return queryset

    def filter_telehealth(self, queryset, name, value):
        if value is not None:
            tele = selectors.line_has_any_term(
                "levels_of_care", selectors.term_ids(vocab.LEVEL_OF_CARE, ["TELE"])
            )
            offers = Q(offers_virtual=True) | Q(tele)
            self.add_line_condition(offers if value else ~offers)
        return queryset

    def filter_evening(self, queryset, name, value):
        if value is not None:
            self.add_line_condition(Q(offers_evening=value))
        return queryset

    def filter_max_hours(self, queryset, name, value):
        if value is not None:
            self.add_line_condition(Q(hours_per_week_min__lte=value))
        return queryset

    @property
    def place(self):
        """The resolved `near` place, or None."""
        return getattr(self.form, "place", None)

    @property
    def radius_miles(self):
        radius = self.form.cleaned_data.get("radius")
        return float(radius) if radius is not None else DEFAULT_RADIUS_MILES

    def is_valid(self):
        valid = super().is_valid()
        form = self.form
        form.place = None
        near = form.cleaned_data.get("near") if hasattr(form, "cleaned_data") else None
        if near:
            try:
                # Close matches ranked by where listings are, as the home page's box.
                form.place = geo.resolve_place(near, program_counts=places.listing_counts)
            except geo.PlaceError as error:
                form.near_suggestions = error.suggestions  # the API's `allowed`
                form.near_choices = error.choices  # the page's links, with program counts
                message = error.message
                if error.suggestions and not error.ambiguous:
                    # (An ambiguous city's message already asks which one: its two dozen
                    # states are offered as links and in `allowed`, not as a wall of text.)
                    message += " Did you mean: " + "; ".join(error.suggestions) + "?"
                form.add_error("near", message)
                valid = False
        if valid and form.cleaned_data.get("ordering") == "distance" and not near:
            form.add_error("ordering", "Sorting by distance needs a place in `near`.")
            valid = False
        if valid and form.cleaned_data.get("radius") is not None and not near:
            form.add_error("radius", "A radius needs a place in `near`.")
            valid = False
        return valid

    def filter_queryset(self, queryset):
        self.line_conditions = []
        queryset = super().filter_queryset(queryset)
        if self.line_conditions:
            # One line meets them all: the filters above only collected them.
            queryset = queryset.filter(selectors.has_line(*self.line_conditions))
        ordering = self.form.cleaned_data.get("ordering")
        place = self.place
        if place is not None:
            queryset = selectors.within(
                queryset, place.latitude, place.longitude, self.radius_miles
            )
            if ordering in (None, "", "distance"):
                return queryset.order_by("distance_miles", "name", "id")
        if ordering == "verified":
            return queryset.order_by(F("verified_at").desc(nulls_last=True), "name", "id")
        return queryset.order_by("name", "id")
