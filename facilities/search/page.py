"""The results page's context: what /facilities/ shows around its list of programs.

The filter panel (sections, checkbox groups, flags), the chips with their "remove"
links, the error summary, the ways out of an empty result and the result cards.
Every label comes from search/params.py; what is ticked, typed or chosen comes
from the FilterSet's cleaned data, never from re-reading the query string.

canonical_query() is the one spelling of a results address: the view redirects any
other spelling to it (the no-JavaScript form sends every field, empty or not, and
finder.js follows that redirect), and every link the page builds uses it.
"""

from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

from django.core.exceptions import ValidationError
from django.http import QueryDict
from django.urls import reverse
from django.utils.formats import date_format

from .. import selectors
from ..models import Facility, facility_url
from ..states import STATES, state_name
from ..templatetags.finder import miles, schedule, tel_href
from . import fallbacks, params
from .filters import FacilityFilterSet
from .params import BY_NAME, DEFAULT_RADIUS_MILES, PARAMS

RESULTS_PER_PAGE = 20
# Vocabularies a result card lists: (heading, field), all in rows.LIST_TERM_FIELDS.
CARD_TERMS = [
    ("Offers", "levels_of_care"),
    ("Payment accepted", "payment_options"),
    ("Help paying", "payment_assistance"),
]
# Dropping `near` also drops what only makes sense with it.
_DEPENDENT = {"near": ("radius", "ordering")}
# A results address a facility page may link back to: longer is not one we made (nor link).
MAX_BACK_LENGTH = 4000
# Kinds whose parameter holds several codes; every other parameter holds one value.
_MULTIPLE = (params.CODES, params.TERMS)


# Kept in a results address though they are not search parameters: the page number, and the
# shortlist a visitor without JavaScript carries from page to page (shortlist.py).
ADDRESS_PARAMETERS = ("page", "shortlist")


def canonical_pairs(query):
    """The results page's parameters of `query` (a QueryDict) in their one spelling, in the
    order they first appear: unknown names and empty values dropped; codes split, upper
    case, each once, one pair per code (as the chips' links repeat them); a parameter of
    one value keeps the last one given (what the form reads), stripped; booleans as
    true/false. Level of care, which has a default: its default alone is dropped (the
    same search), and an empty value alone stays (it means every level of care).
    Values that are wrong stay as given, so the page can say what is wrong with them."""
    pairs = []
    for name, values in query.lists():
        param = BY_NAME.get(name)
        if param is None and name not in ADDRESS_PARAMETERS:
            continue
        if param is not None and param.kind in _MULTIPLE:
            codes = list(dict.fromkeys(params.split_codes(values)))
            if param.default is not None and not codes:
                pairs.append((name, ""))
            elif param.default is None or codes != [param.default]:
                pairs.extend((name, code) for code in codes)
            continue
        value = values[-1].strip() if values else ""
        if not value:
            continue
        if param is not None and param.kind == params.BOOLEAN:
            try:
                parsed = params.parse_boolean(value)
            except ValueError:
                parsed = None  # not a boolean: kept as given, the page says what is wrong
            if parsed is not None:
                value = "true" if parsed else "false"
        pairs.append((name, value))
    return pairs


def canonical_query(query):
    """The query string of canonical_pairs(query): what the address bar shows for a search."""
    return urlencode(canonical_pairs(query))


def canonical_url(query):
    """The canonical results address of `query`, or "" when `query` already spells it
    (the same pairs in the same order: how they are percent-encoded does not matter)."""
    pairs = canonical_pairs(query)
    if pairs == [(name, value) for name, values in query.lists() for value in values]:
        return ""
    return list_url(urlencode(pairs))


def list_url(query_string):
    """/facilities/ with a query string (none when it is empty)."""
    base = reverse("facilities:list")
    return f"{base}?{query_string}" if query_string else base


def back_to_results(value):
    """The results address a facility page links back to, from its `back` parameter (which
    a result card adds): only a results address on this site, rebuilt from its own
    parameters, so nothing else can be sent there; "" for anything else."""
    if not value or len(value) > MAX_BACK_LENGTH:
        return ""
    try:
        parts = urlsplit(value)
    except ValueError:  # e.g. a broken IPv6 host
        return ""
    if parts.scheme or parts.netloc or parts.path != reverse("facilities:list"):
        return ""
    return list_url(canonical_query(QueryDict(parts.query)))


def run(query, queryset=None):
    """The FilterSet for a results request (the page's defaults applied), and whether the
    search is valid. The CSV download of the same results runs the same search."""
    data = params.with_defaults(query)
    if queryset is None:
        queryset = selectors.published_facilities()
    filterset = FacilityFilterSet(data, queryset=queryset)
    return filterset, filterset.is_valid()


def _cleaned(filterset):
    return getattr(filterset.form, "cleaned_data", {})


def chosen(filterset, name):
    """The parameter's cleaned value; for one with an error, what was given, read by the
    filter's own field (so a bad code beside good ones keeps the good ones ticked)."""
    form = filterset.form
    if name not in form.errors:
        return _cleaned(filterset).get(name)
    try:
        return form.fields[name].to_python(filterset.data.getlist(name))
    except ValidationError:  # nothing to show: the error says why
        return None


def _list_url(data):
    return list_url(canonical_query(data))


def _without(query, name, value=None):
    """The results URL without one value of `name` (all of them when value is None)."""
    data = query.copy()
    data.pop("page", None)
    if value is None:
        data.pop(name, None)
        for dependent in _DEPENDENT.get(name, ()):
            if dependent != "ordering" or data.get("ordering") == "distance":
                data.pop(dependent, None)
    else:
        remaining = [code for code in params.split_codes(data.getlist(name)) if code != value]
        if not remaining and BY_NAME[name].default is not None:
            remaining = [""]  # keep "any" rather than falling back to the default
        data.setlist(name, remaining)
        if not remaining:
            data.pop(name)
    return _list_url(data)


def url_with(query, **changes):
    data = query.copy()
    data.pop("page", None)
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return _list_url(data)


@dataclass
class Chip:
    label: str
    remove_url: str
    name: str  # the parameter it shows
    is_default: bool = False


def chips(query, filterset):
    """What the search filters on, each with the link to the same search without it."""
    found = []
    cleaned = _cleaned(filterset)
    if filterset.place is not None:
        near = query.get("near", "").strip()
        found.append(
            Chip(
                f"Within {filterset.radius_miles:g} miles of {near}",
                _without(query, "near"),
                "near",
            )
        )
    for param in PARAMS:
        value = cleaned.get(param.name)
        if param.name in ("near", "radius", "ordering") or value in (None, "", []):
            continue
        if param.default is not None and params.uses_default(query, param.name):
            labels = selectors.term_labels(param.group)
            found.append(
                Chip(
                    f"Only {labels.get(param.default, param.default)} (the default)",
                    url_with(query, **{param.name: ""}),
                    param.name,
                    is_default=True,
                )
            )
        elif param.kind == params.TERMS:
            labels = selectors.term_labels(param.group)
            for code in value:
                found.append(
                    Chip(
                        param.chip_label(labels.get(code, code)),
                        _without(query, param.name, code),
                        param.name,
                    )
                )
        elif param.kind == params.CODES:
            for code in value:
                found.append(
                    Chip(
                        param.chip_label(state_name(code)),
                        _without(query, param.name, code),
                        param.name,
                    )
                )
        elif param.kind == params.BOOLEAN:
            found.append(
                Chip(param.boolean_chip_label(value), _without(query, param.name), param.name)
            )
        else:
            text = f"{value:g}" if param.kind == params.NUMBER else value
            found.append(Chip(param.chip_label(text), _without(query, param.name), param.name))
    return found


def _checkbox_group(param, chosen, errors):
    """A vocabulary's checkboxes (templatetags.finder.checkbox_group), with what is ticked."""
    selected = set(chosen or ())
    return {
        "name": param.name,
        "legend": param.label,
        "hint": param.hint,
        "errors": errors.get(param.name, []),
        "open": bool(selected) or bool(errors.get(param.name)),
        "options": [
            {
                "code": term["code"],
                "label": term["label"],
                "description": term["description"],
                "checked": term["code"] in selected,
                "child": bool(term["parent"]),
            }
            for term in selectors.vocabulary().get(param.group, [])
        ],
    }


def _flag(param, chosen, errors):
    """A yes/no filter (templatetags.finder.checkbox_flag)."""
    return {
        "name": param.name,
        "label": param.label,
        "checked": chosen is True,
        "errors": errors.get(param.name, []),
    }


def _control(query, filterset, param, errors):
    """One parameter's control on the panel, with what is chosen and whether it is open."""
    value = chosen(filterset, param.name)
    if param.kind == params.TERMS:
        # The default (IOP) is ticked, so sending the panel keeps it: the group also sends
        # an empty value, which alone would mean "every level of care".
        control = _checkbox_group(param, value, errors)
        control["empty_means_all"] = param.default is not None
        if params.uses_default(query, param.name):
            control["open"] = bool(control["errors"])  # the default alone opens nothing
    elif param.kind == params.BOOLEAN:
        control = _flag(param, value, errors)
        control["open"] = control["checked"] or bool(control["errors"])
    else:  # a number picked from a list (hours a week)
        selected = f"{value:g}" if value is not None else ""
        control = {
            "name": param.name,
            "label": param.label,
            "errors": errors.get(param.name, []),
            "options": [(f"{option:g}", option) for option in param.options],
            "selected": selected,
            "open": bool(selected) or bool(errors.get(param.name)),
        }
    control["kind"] = param.kind
    return control


def panel(query, filterset, errors):
    """The filter panel's sections below "Where" (params.SECTIONS), each with its controls
    in params.PARAMS order. A section starts open when anything in it is chosen or wrong,
    or when a parameter with a default (level of care) is given explicitly."""
    sections = []
    for key, heading in params.SECTIONS:
        section_params = params.in_section(key)
        controls = [_control(query, filterset, param, errors) for param in section_params]
        with_default = [param for param in section_params if param.default is not None]
        default_scope = any(params.uses_default(query, param.name) for param in with_default)
        sections.append(
            {
                "key": key,
                "heading": heading,
                "default_scope": default_scope,
                "open": any(control["open"] for control in controls)
                or (bool(with_default) and not default_scope),
                "controls": controls,
            }
        )
    return sections


def error_summary(query, filterset):
    """Each bad parameter: its label, its messages, where it is on the panel, and the same
    search without it."""
    summary = []
    for name, messages in filterset.form.errors.items():
        param = BY_NAME.get(name)
        summary.append(
            {
                "name": name,
                "anchor": param.anchor if param else f"id_{name}",
                "label": param.label if param else "Your search",
                "messages": messages,
                "without_url": _without(query, name),
            }
        )
    return summary


def widen_links(query, found_chips, filterset, radius_step=True):
    """Ways out of an empty result: a bigger radius, every level of care, one filter fewer.
    radius_step=False leaves out the next radius (search/fallbacks.py offers the one that
    reaches the nearest program)."""
    links = []
    if filterset.place is not None and radius_step:
        radius = filterset.radius_miles
        for step in BY_NAME["radius"].options:
            if step > radius:
                links.append((f"Search within {step} miles", url_with(query, radius=str(step))))
                break
    for chip in found_chips:
        if chip.is_default:
            links.append(("Include every level of care, not only IOP", chip.remove_url))
        elif chip.name != "near":  # the radius link above widens the place
            links.append((f"Search without “{chip.label}”", chip.remove_url))
    return links


def heading(filterset):
    """ "near Jackson, MS", "in Mississippi" or nothing, after "Intensive outpatient
    programs"."""
    if filterset.place is not None:
        return f"near {filterset.place.label}"
    states = _cleaned(filterset).get("state") or []
    if len(states) == 1:
        return f"in {STATES.get(states[0], states[0])}"
    return ""


def radius_options(filterset):
    """[(value, label, selected)] for the radius list: the default is the empty value (so
    the address stays short), and a radius from the URL that is not a step is added."""
    in_force = filterset.radius_miles
    steps = list(BY_NAME["radius"].options)
    if in_force not in steps:
        steps = sorted([*steps, in_force])
    return [
        ("" if step == DEFAULT_RADIUS_MILES else f"{step:g}", f"{step:g} miles", step == in_force)
        for step in steps
    ]


def ordering(filterset):
    """(the sort in force, the choices offered): distance only near a place."""
    has_place = filterset.place is not None
    chosen = _cleaned(filterset).get("ordering") or ("distance" if has_place else "name")
    choices = [
        (value, label)
        for value, label in params.ORDERING_CHOICES
        if has_place or value != "distance"
    ]
    return chosen, choices


def _call(row):
    """A card's call button: the intake line (where treatment starts), else the main number;
    None without either."""
    if row["intake_phone"]:
        return {"label": "Call to start", "phone": row["intake_phone"]}
    if row["phone"]:
        return {"label": "Call", "phone": row["phone"]}
    return None


def result_cards(listings, request, back=""):
    """What a result card shows (templates/facilities/_card_list.html), from listing rows
    (rows.LIST_COLUMNS with their terms): a page renders twenty of them, and doing this
    in the template was a third of the request. With `back` (a results address), the
    card links to the facility page with it, for the page's "Back to results"."""
    cards = []
    back_query = "?" + urlencode({"back": back}) if back else ""
    for row in listings:
        url = facility_url(row["slug"])
        distance = row.get("distance_miles")
        address = f"{row['city']}, {row['state']} {row['zip']}"
        facts = []
        schedule_parts = schedule(row)
        if schedule_parts:
            facts.append(("Schedule", " · ".join(schedule_parts)))
        if row["ownership__label"]:
            facts.append(("Run by", row["ownership__label"]))
        for label, field_name in CARD_TERMS:
            terms = row[field_name]
            if terms:
                facts.append((label, ", ".join(term.label for term in terms)))
        call = _call(row)
        if call:
            call["href"] = tel_href(call["phone"])
        # The main number is a fact of its own when the button calls the intake line.
        main_phone = row["phone"] if row["intake_phone"] and row["phone"] else ""
        cards.append(
            {
                "id": row["id"],
                "url": url + back_query,
                "absolute_url": request.build_absolute_uri(url),
                "name": row["name"],
                "program": row["program_name"] if row["program_name"] != row["name"] else "",
                "place": f"{row['city']}, {row['state']}",
                "fictional": row["source"] in Facility.FICTIONAL_SOURCES,
                "co_occurring": row["co_occurring"],
                "address": f"{row['street1']}, {address}" if row["street1"] else address,
                "distance": miles(distance) if distance is not None else "",
                "call": call,
                "phone": main_phone,
                "phone_href": tel_href(main_phone) if main_phone else "",
                "facts": facts,
                "verified": date_format(row["verified_at"], "F j, Y")
                if row["verified_at"]
                else "Not yet verified: call to confirm",
            }
        )
    return cards


def context(request, filterset, valid, page):
    """Everything templates/facilities/facility_list.html shows, for a search run by run()
    and, when it is valid, its page of listing rows (selectors.CachedCountPaginator)."""
    query = request.GET
    form = filterset.form
    errors = form.errors if not valid else {}
    # Also for an invalid search: the panel's summary counts what is active.
    found_chips = chips(query, filterset)
    page_query = query.copy()
    page_query.pop("page", None)
    export_query = page_query.urlencode()
    sort, sort_choices = ordering(filterset)
    # This page's own address (the view has made it canonical), for the cards' way back.
    back = _list_url(query)
    if len(back) > MAX_BACK_LENGTH:
        back = ""
    return {
        "params": BY_NAME,
        "filterset": filterset,
        "form": form,
        # Every parameter present (an empty list when fine): a missing key would make the
        # template engine try attribute lookups and dir() on the error dict, 29 times a page.
        "field_errors": {name: errors.get(name, []) for name in form.fields},
        "valid": valid,
        "page": page,
        "cards": result_cards(page, request, back=back) if page else [],
        "chips": found_chips,
        "default_scope": params.uses_default(query, "level_of_care"),
        "error_summary": error_summary(query, filterset) if not valid else [],
        "near_suggestions": [
            (choice.label, url_with(query, near=choice.value))
            for choice in getattr(form, "near_choices", [])
        ],
        "sections": panel(query, filterset, errors),
        # What was typed, shown back as typed (even when it is wrong).
        "values": {
            key: query.get(key, "")[:200] for key in ("q", "near", "city", "zip", "ordering")
        },
        "states_selected": set(chosen(filterset, "state") or ()),
        "state_choices": sorted(STATES.items(), key=lambda item: item[1]),
        "radius_options": radius_options(filterset),
        "ordering_choices": sort_choices,
        "ordering": sort,
        "sort_hidden": [
            (key, value)
            for key, values in page_query.lists()
            if key != "ordering"
            for value in values
        ],
        "page_query": page_query.urlencode(),
        "export_url": reverse("facilities:export") + (f"?{export_query}" if export_query else ""),
        "heading": heading(filterset) if valid else "",
        "widen_links": widen_links(query, found_chips, filterset) if valid else [],
        # Zero results: what to offer instead (search/fallbacks.py); nothing is asked otherwise.
        "no_results": fallbacks.offer(request, query, filterset, found_chips)
        if page is not None and not page.paginator.count
        else None,
        "has_place": valid and filterset.place is not None,
        "elided_pages": list(
            page.paginator.get_elided_page_range(page.number, on_each_side=1, on_ends=1)
        )
        if page
        else [],
    }
