"""Public pages. Only published listings are ever shown; every page works without JavaScript."""

from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.formats import date_format
from django.views.decorators.http import require_http_methods

from . import data_version, exports, guide, search, selectors
from . import vocabulary as vocab
from .filters import DEFAULT_RADIUS_MILES, MAX_RADIUS_MILES, FacilityFilterSet
from .forms import ProblemReportForm, report_rate_limited
from .states import STATES
from .templatetags.finder import miles, schedule, tel_href
from .text import city_slug, normalize_city

RESULTS_PER_PAGE = 20
# Vocabularies a result card lists: (heading, Facility field), all in selectors.LIST_PREFETCH.
CARD_TERMS = [
    ("Offers", "levels_of_care"),
    ("Payment accepted", "payment_options"),
    ("Help paying", "payment_assistance"),
]
NEARBY_COUNT = 5
NEARBY_RADIUS_MILES = 100
RADIUS_STEPS = [5, 10, 25, 50, 100, 250, MAX_RADIUS_MILES]

# Filters people ask about first (IOP-DOMAIN.md, "What people ask when they choose").
HOME_PAYMENTS = ["PI", "MD", "MC", "MI", "SF"]
QUICK_FILTERS = [
    ("Take Medicaid", {"payment": "MD"}),
    ("Take Medicare", {"payment": "MC"}),
    ("Take private insurance", {"payment": "PI"}),
    ("Take military insurance (TRICARE)", {"payment": "MI"}),
    ("Offer a sliding fee scale or other financial help", {"financial_assistance": "true"}),
    ("Treat mental health and substance use together", {"co_occurring": "true"}),
    ("Have evening sessions", {"evening": "true"}),
    ("Offer virtual (telehealth) sessions", {"telehealth": "true"}),
]

# The search form's checkbox groups: (parameter, legend, vocabulary, hint).
FILTER_GROUPS = [
    (
        "level_of_care",
        "Level of care",
        vocab.LEVEL_OF_CARE,
        "We show intensive outpatient programs (IOP) unless you choose otherwise.",
    ),
    ("payment", "Payment accepted", vocab.PAYMENT, "Programs that take any of the ones you tick."),
    ("population", "Programs for", vocab.POPULATION, ""),
    ("age", "Age group", vocab.AGE, ""),
    ("ownership", "Run by", vocab.OWNERSHIP, "Federal includes VA, Defense and Indian Health."),
    ("language", "Language", vocab.LANGUAGE, ""),
    ("medication", "Medication offered", vocab.MEDICATION, ""),
]
BOOLEAN_FILTERS = [
    ("financial_assistance", "Offers a sliding fee scale or other financial help"),
    ("co_occurring", "Treats mental health and substance use together (co-occurring)"),
    ("evening", "Evening sessions"),
    ("telehealth", "Virtual (telehealth) sessions"),
]
HOURS_CHOICES = [6, 9, 12, 15, 20]


def _split_codes(values):
    codes = set()
    for value in values:
        codes.update(part.strip().upper() for part in str(value).split(",") if part.strip())
    return codes


def _filter_groups(data, errors):
    """The checkbox groups for the template, with what is ticked."""
    groups = {}
    for name, legend, group, hint in FILTER_GROUPS:
        selected = _split_codes(data.getlist(name))
        terms = selectors.vocabulary().get(group, [])
        groups[name] = {
            "name": name,
            "legend": legend,
            "hint": hint,
            "errors": errors.get(name, []),
            "open": bool(selected - {""}) or bool(errors.get(name)),
            "options": [
                {
                    "code": term["code"],
                    "label": term["label"],
                    "description": term["description"],
                    "checked": term["code"] in selected,
                    "child": bool(term["parent"]),
                }
                for term in terms
            ],
        }
    return groups


def _boolean_filters(data, errors):
    return {
        name: {
            "name": name,
            "label": label,
            "checked": data.get(name, "").lower() in {"true", "1", "yes", "on"},
            "errors": errors.get(name, []),
        }
        for name, label in BOOLEAN_FILTERS
    }


def _radius_choices(current):
    choices = list(RADIUS_STEPS)
    if current and current not in choices:
        choices = sorted([*choices, current])
    return choices


# Where the error summary's links take you: the field, or the collapsible group it is in.
ERROR_ANCHORS = {
    "level_of_care": "field-level_of_care",
    "payment": "field-payment",
    "financial_assistance": "field-payment",
    "co_occurring": "field-co_occurring",
    "medication": "field-co_occurring",
    "population": "field-population",
    "age": "field-population",
    "language": "field-population",
    "evening": "field-schedule",
    "telehealth": "field-schedule",
    "ownership": "field-ownership",
    "ordering": "sort-form",
}


def _error_summary(form, query):
    labels = {name: field.label for name, field in form.fields.items()}
    summary = []
    for name, messages in form.errors.items():
        without = query.copy()
        without.pop("page", None)
        without.pop(name, None)
        if name == "near":
            without.pop("radius", None)
            if without.get("ordering") == "distance":
                without.pop("ordering")
        rest = without.urlencode()
        summary.append(
            {
                "anchor": ERROR_ANCHORS.get(name, f"id_{name}"),
                "label": labels.get(name) or "Your search",
                "messages": messages,
                "without_url": reverse("facilities:list") + (f"?{rest}" if rest else ""),
            }
        )
    return summary


def _replace(query, **changes):
    data = query.copy()
    data.pop("page", None)
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return f"{reverse('facilities:list')}?{data.urlencode()}"


def _widen_links(query, chips, place):
    """Ways out of an empty result: a bigger radius, every level of care, one filter fewer."""
    links = []
    if place is not None:
        try:
            radius = float(query.get("radius") or DEFAULT_RADIUS_MILES)
        except ValueError:
            radius = DEFAULT_RADIUS_MILES
        for step in RADIUS_STEPS:
            if step > radius:
                links.append((f"Search within {step} miles", _replace(query, radius=str(step))))
                break
    for chip in chips:
        if chip.is_default:
            links.append(("Include every level of care, not only IOP", chip.remove_url))
        elif not chip.label.startswith("Within "):
            links.append((f"Search without “{chip.label}”", chip.remove_url))
    return links


def _heading(filterset, query):
    data = filterset.form.cleaned_data if hasattr(filterset.form, "cleaned_data") else {}
    if filterset.place is not None:
        return f"near {filterset.place.label}"
    states = data.get("state") or []
    if len(states) == 1:
        return f"in {STATES.get(states[0], states[0])}"
    return ""


def home(request):
    answer = None
    if "place" in request.GET:
        extra = {
            "payment": [code for code in request.GET.getlist("payment") if code],
            "co_occurring": "true" if request.GET.get("co_occurring") else "",
            "financial_assistance": "true" if request.GET.get("financial_assistance") else "",
        }
        answer = search.interpret_place(request.GET.get("place", ""), extra)
        if answer.url:
            return redirect(answer.url)
    counts = guide.state_counts()
    states = [
        {"code": code, "name": name, "iop": counts[code][0], "total": counts[code][1]}
        for code, name, _ in search.state_links({c: v[0] for c, v in counts.items()})
    ]
    labels = selectors.term_labels(vocab.PAYMENT)
    context = {
        "answer": answer,
        "place": request.GET.get("place", "")[:200],
        "states": states,
        "payments": [(code, labels.get(code, code)) for code in HOME_PAYMENTS if code in labels],
        "checked_payments": set(request.GET.getlist("payment")),
        "quick_filters": [(label, search.results_url(params)) for label, params in QUICK_FILTERS],
    }
    status = 400 if answer and not answer.ambiguous else 200
    return render(request, "facilities/home.html", context, status=status)


def result_cards(facilities, request):
    """What a result card shows (templates/facilities/_card_list.html), worked out here: a page
    renders twenty of them, and doing this in the template was a third of the request."""
    cards = []
    for facility in facilities:
        url = facility.get_absolute_url()
        distance = getattr(facility, "distance_miles", None)
        address = f"{facility.city}, {facility.state} {facility.zip}"
        facts = []
        schedule_parts = schedule(facility)
        if schedule_parts:
            facts.append(("Schedule", " · ".join(schedule_parts)))
        if facility.ownership_id:
            facts.append(("Run by", facility.ownership.label))
        for label, field_name in CARD_TERMS:
            terms = selectors.terms_of(facility, field_name)
            if terms:
                facts.append((label, ", ".join(term.label for term in terms)))
        cards.append(
            {
                "id": facility.pk,
                "url": url,
                "absolute_url": request.build_absolute_uri(url),
                "name": facility.name,
                "program": facility.program_name if facility.program_name != facility.name else "",
                "fictional": facility.is_fictional,
                "co_occurring": facility.co_occurring,
                "address": f"{facility.street1}, {address}" if facility.street1 else address,
                "distance": miles(distance) if distance is not None else "",
                "phone": facility.phone,
                "phone_href": tel_href(facility.phone),
                "facts": facts,
                "verified": date_format(facility.verified_at, "F j, Y")
                if facility.verified_at
                else "Not yet verified: call to confirm",
            }
        )
    return cards


def _search(query):
    """The FilterSet for a results request, with the default IOP scope applied."""
    data = search.with_default_scope(query)
    filterset = FacilityFilterSet(data, queryset=selectors.published_facilities())
    return data, filterset, filterset.is_valid()


def facility_list(request):
    query = request.GET
    data, filterset, valid = _search(query)
    form = filterset.form
    errors = form.errors if not valid else {}
    chips = search.active_filters(query)
    page = None
    if valid:
        page = selectors.CachedCountPaginator(
            filterset.qs,
            RESULTS_PER_PAGE,
            search=("page", selectors.search_key(query)),
            shape=selectors.for_list,
        ).get_page(query.get("page"))
    place = filterset.place if valid else None
    page_query = query.copy()
    page_query.pop("page", None)
    export_query = page_query.urlencode()
    try:
        radius = int(float(query["radius"]))
        radius_given = 0 < radius <= MAX_RADIUS_MILES
    except (KeyError, TypeError, ValueError, OverflowError):
        radius, radius_given = DEFAULT_RADIUS_MILES, False
    if not radius_given:
        radius = DEFAULT_RADIUS_MILES
    sort_hidden = [(k, v) for k, values in page_query.lists() if k != "ordering" for v in values]
    context = {
        "filterset": filterset,
        "form": form,
        # Every parameter present (an empty list when fine): a missing key would make the
        # template engine try attribute lookups and dir() on the error dict, 29 times a page.
        "field_errors": {name: errors.get(name, []) for name in form.fields},
        "valid": valid,
        "page": page,
        "cards": result_cards(page, request) if page else [],
        "chips": chips,
        "default_scope": search.is_default_scope(query),
        "error_summary": _error_summary(form, query) if not valid else [],
        "near_suggestions": [
            (suggestion, _replace(query, near=suggestion))
            for suggestion in getattr(form, "near_suggestions", [])
        ],
        "groups": _filter_groups(data, errors),
        "booleans": _boolean_filters(data, errors),
        "values": {
            key: query.get(key, "")[:200]
            for key in ("q", "near", "city", "zip", "max_hours_per_week", "ordering")
        },
        "states_selected": _split_codes(query.getlist("state")),
        "state_choices": sorted(STATES.items(), key=lambda item: item[1]),
        "radius": radius,
        "radius_given": radius_given,
        "default_radius": DEFAULT_RADIUS_MILES,
        "radius_choices": _radius_choices(radius),
        "hours_choices": HOURS_CHOICES,
        "ordering_choices": search.ordering_choices(bool(query.get("near"))),
        "ordering": query.get("ordering") or ("distance" if place else "name"),
        "sort_hidden": sort_hidden,
        "page_query": page_query.urlencode(),
        "export_url": reverse("facilities:export") + (f"?{export_query}" if export_query else ""),
        "heading": _heading(filterset, query) if valid else "",
        "widen_links": _widen_links(query, chips, place) if valid else [],
        "has_place": place is not None,
        "elided_pages": list(
            page.paginator.get_elided_page_range(page.number, on_each_side=1, on_ends=1)
        )
        if page
        else [],
    }
    return render(request, "facilities/facility_list.html", context, status=200 if valid else 400)


def facility_export(request):
    """The current results as CSV: the same parameters and default scope as the page."""
    _, filterset, valid = _search(request.GET)
    if not valid:
        lines = [
            f"{name}: {' '.join(messages)}" for name, messages in filterset.form.errors.items()
        ]
        return HttpResponse(
            "The search could not be exported:\n" + "\n".join(lines) + "\n",
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    base_url = request.build_absolute_uri("/").rstrip("/")
    response = StreamingHttpResponse(
        exports.csv_lines(filterset.qs, base_url), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = 'attachment; filename="iop-finder-results.csv"'
    return response


def facility_detail(request, slug):
    facility = get_object_or_404(selectors.for_detail(selectors.published_facilities()), slug=slug)
    context = {
        "facility": facility,
        "nearby": search.nearby_iops(facility, NEARBY_COUNT, NEARBY_RADIUS_MILES),
        "nearby_radius": NEARBY_RADIUS_MILES,
        "state_url": reverse("facilities:state", args=[facility.state.lower()]),
    }
    return render(request, "facilities/facility_detail.html", context)


@require_http_methods(["GET", "POST"])
def report_problem(request, slug):
    facility = get_object_or_404(selectors.published_facilities(), slug=slug)
    form = ProblemReportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if report_rate_limited(request):
            return render(
                request,
                "facilities/report_problem.html",
                {"facility": facility, "form": form, "rate_limited": True},
                status=429,
            )
        if not form.is_spam:
            report = form.save(commit=False)
            report.facility = facility
            report.save()
        # Bots get the same thank-you page, so they learn nothing from it.
        return redirect("facilities:report_thanks", slug=facility.slug)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "facilities/report_problem.html",
        {"facility": facility, "form": form},
        status=status,
    )


def report_thanks(request, slug):
    facility = get_object_or_404(selectors.published_facilities(), slug=slug)
    return render(request, "facilities/report_thanks.html", {"facility": facility})


def state_list(request):
    counts = guide.state_counts()
    states = [
        {"code": code, "name": name, "iop": counts[code][0], "total": counts[code][1]}
        for code, name, _ in search.state_links({c: v[0] for c, v in counts.items()})
    ]
    return render(request, "facilities/state_list.html", {"states": states})


def _term_links(counts, group, base_params, param):
    labels = selectors.term_labels(group)
    return [
        {
            "label": labels.get(code, code),
            "count": count,
            "url": search.results_url({**base_params, param: code}),
        }
        for code, count in counts.items()
    ]


def _place_context(listings, place_name, base_params, state_code, cache_parts):
    """What the state and city pages show: the guide's sentences and links into the search."""

    def count():
        return selectors.summary(guide.iop_listings(listings)), listings.count()

    # A dozen aggregate queries over the state's listings: once per data version.
    figures, listing_count = data_version.cached("place", count, *cache_parts)
    cities = [
        {
            **row,
            "url": reverse("facilities:city", args=[state_code.lower(), city_slug(row["city"])]),
        }
        for row in figures["cities"]
    ]
    return {
        "figures": figures,
        "sentences": guide.summary_sentences(figures, place_name),
        "place_name": place_name,
        "cities": cities,
        "populations": _term_links(
            figures["populations"], vocab.POPULATION, base_params, "population"
        ),
        "payments": _term_links(figures["payment_options"], vocab.PAYMENT, base_params, "payment"),
        "ownerships": _term_links(figures["ownership"], vocab.OWNERSHIP, base_params, "ownership"),
        "search_url": search.results_url(base_params),
        "co_occurring_url": search.results_url({**base_params, "co_occurring": "true"}),
        "assistance_url": search.results_url({**base_params, "financial_assistance": "true"}),
        "all_levels_url": search.results_url(base_params, every_level=True),
        "other_count": listing_count - figures["facility_count"],
    }


def state_detail(request, state):
    code = state.upper()
    if code not in STATES:
        raise Http404("No such state")
    if state != state.lower():
        return redirect("facilities:state", state=state.lower(), permanent=True)
    listings = selectors.published_facilities().filter(state=code)
    context = _place_context(listings, STATES[code], {"state": code}, code, ("state", code))
    context.update({"state_code": code, "state_name": STATES[code]})
    return render(request, "facilities/state_detail.html", context)


def city_detail(request, state, city):
    code = state.upper()
    if code not in STATES or not city_slug(city):
        raise Http404("No such state or city")
    if state != state.lower() or city != city_slug(city):
        return redirect(
            "facilities:city", state=state.lower(), city=city_slug(city), permanent=True
        )
    listings = selectors.published_facilities().filter(state=code, city_key=normalize_city(city))
    first = listings.order_by("name").first()
    if first is None:
        raise Http404("No listings in this city")
    place_name = f"{first.city}, {STATES[code]}"
    context = _place_context(
        listings, place_name, {"state": code, "city": first.city}, code, ("city", code, city)
    )
    iop = selectors.for_list(guide.iop_listings(listings)).order_by("name", "id")
    facilities = list(iop[:RESULTS_PER_PAGE])
    context.update(
        {
            "state_code": code,
            "state_name": STATES[code],
            "city_name": first.city,
            "facilities": facilities,
            "cards": result_cards(facilities, request),
        }
    )
    return render(request, "facilities/city_detail.html", context)
