"""Public pages. Only published listings are ever shown; every page works without JavaScript.

Views orchestrate: the search and its page context are search/ (filters.py, page.py),
the home page's box search/places.py, queries selectors.py and rows.py.
"""

from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from . import data_version, detail, exports, geo, guide, rows, selectors, shortlist
from . import vocabulary as vocab
from .forms import ProblemReportForm, report_rate_limited
from .search import page as results_page
from .search.places import interpret_place, results_url
from .states import STATES
from .text import city_slug, normalize_city

NEARBY_COUNT = 5
NEARBY_RADIUS_MILES = 100

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


def _state_links(counts):
    """[(code, name, count)] sorted by state name, from {code: count}."""
    return sorted(
        ((code, STATES.get(code, code), count) for code, count in counts.items()),
        key=lambda row: row[1],
    )


def home(request):
    answer = None
    if "place" in request.GET:
        extra = {
            "payment": [code for code in request.GET.getlist("payment") if code],
            "co_occurring": "true" if request.GET.get("co_occurring") else "",
            "financial_assistance": "true" if request.GET.get("financial_assistance") else "",
        }
        answer = interpret_place(request.GET.get("place", ""), extra)
        if answer.url:
            return redirect(answer.url)
    counts = guide.state_counts()
    states = [
        {"code": code, "name": name, "iop": counts[code][0], "total": counts[code][1]}
        for code, name, _ in _state_links({c: v[0] for c, v in counts.items()})
    ]
    labels = selectors.term_labels(vocab.PAYMENT)
    context = {
        "answer": answer,
        "place": request.GET.get("place", "")[:200],
        "states": states,
        "payments": [(code, labels.get(code, code)) for code in HOME_PAYMENTS if code in labels],
        "checked_payments": set(request.GET.getlist("payment")),
        "quick_filters": [(label, results_url(params)) for label, params in QUICK_FILTERS],
    }
    status = 400 if answer and not answer.ambiguous else 200
    return render(request, "facilities/home.html", context, status=status)


def facility_list(request):
    query = request.GET
    # One address per search: the no-JavaScript form sends every field, empty or not, and
    # finder.js follows this redirect, so both end at the address a reload or a share shows.
    canonical = results_page.canonical_url(query)
    if canonical:
        return redirect(canonical)
    filterset, valid = results_page.run(query)
    page = None
    if valid:
        page = selectors.CachedCountPaginator(
            filterset.qs,
            results_page.RESULTS_PER_PAGE,
            search=("page", selectors.search_key(query)),
        ).get_page(query.get("page"))
    context = results_page.context(request, filterset, valid, page)
    return render(request, "facilities/facility_list.html", context, status=200 if valid else 400)


def facility_export(request):
    """The current results as CSV: the same parameters and default scope as the page."""
    filterset, valid = results_page.run(request.GET)
    if not valid:
        lines = [
            f"{entry['label']} ({entry['name']}): {' '.join(entry['messages'])}"
            for entry in results_page.error_summary(request.GET, filterset)
        ]
        return HttpResponse(
            "The search could not be exported:\n" + "\n".join(lines) + "\n",
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    base_url = request.build_absolute_uri("/").rstrip("/")
    response = StreamingHttpResponse(
        exports.csv_lines(filterset.qs, base_url, labels=True),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = 'attachment; filename="iop-finder-results.csv"'
    return response


def facility_detail(request, slug):
    found = rows.read_models(
        selectors.for_detail(selectors.published_facilities()).filter(slug=slug)
    )
    if not found:
        raise Http404("No published listing at this address")
    facility = found[0]
    nearby = selectors.nearby_iops(facility, NEARBY_COUNT, NEARBY_RADIUS_MILES)
    # Reached from a search: the results address a card sent along (validated, rebuilt).
    back_url = results_page.back_to_results(request.GET.get("back", ""))
    context = {
        "facility": facility,
        "back_url": back_url,
        "lines": detail.lines_of(facility),
        "nearby": nearby,
        # A nearby program keeps the way back to the same results.
        "nearby_cards": results_page.result_cards(nearby, request, back=back_url),
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
        for code, name, _ in _state_links({c: v[0] for c, v in counts.items()})
    ]
    return render(request, "facilities/state_list.html", {"states": states})


def _term_links(counts, group, base_params, param):
    labels = selectors.term_labels(group)
    return [
        {
            "label": labels.get(code, code),
            "count": count,
            "url": results_url({**base_params, param: code}),
        }
        for code, count in counts.items()
    ]


def _place_context(listings, place_name, base_params, state_code, cache_parts):
    """What the state and city pages show: the guide's sentences and links into the search."""

    def count():
        figures = selectors.summary(
            guide.iop_listings(listings), line_conditions=[selectors.line_offers_iop()]
        )
        return figures, listings.count()

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
        "search_url": results_url(base_params),
        "co_occurring_url": results_url({**base_params, "co_occurring": "true"}),
        "assistance_url": results_url({**base_params, "financial_assistance": "true"}),
        "all_levels_url": results_url(base_params, every_level=True),
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
    iop = guide.iop_listings(listings).order_by("name", "id")
    facilities = rows.read(iop, limit=results_page.RESULTS_PER_PAGE)
    context.update(
        {
            "state_code": code,
            "state_name": STATES[code],
            "city_name": first.city,
            "facilities": facilities,
            "cards": results_page.result_cards(facilities, request),
        }
    )
    return render(request, "facilities/city_detail.html", context)


@require_http_methods(["GET", "HEAD"])
def shortlist_page(request):
    """The saved programs side by side: /shortlist/?ids=12,45 is the whole list (nothing
    stored here). Unknown, archived, repeated or garbled ids are named, never an error."""
    wanted = shortlist.parse_ids(request.GET.getlist("ids"))
    near = request.GET.get("near", "").strip()[:200]
    back = shortlist.safe_back(request.GET.get("back"), request.get_host())
    place, near_error = None, ""
    if near:
        try:
            place = geo.resolve_place(near)
        except geo.PlaceError as error:
            near_error = str(error)
    found, missing = shortlist.read(wanted.ids, place)
    shown = found[: shortlist.MAX_PROGRAMS]
    ids = [row["id"] for row in shown]
    extra = {"near": near if place else "", "back": back}
    context = {
        "programs": shortlist.program_entries(shown, request, ids, extra),
        "notes": shortlist.notes(wanted, missing, len(shown), len(found)),
        "ids_text": shortlist.ids_text(ids),
        "max_programs": shortlist.MAX_PROGRAMS,
        "full": request.GET.get("full") == "1" and len(ids) >= shortlist.MAX_PROGRAMS,
        "near": near,
        "place": place,
        "near_error": near_error,
        "back": back,
        "back_url": shortlist.back_with_list(back, ids) if back else "",
        # Without JavaScript the list rides along, so the next "Save" adds to it.
        "search_url": reverse("facilities:list")
        + (f"?shortlist={shortlist.ids_text(ids)}" if ids else ""),
    }
    if shown:
        context.update(shortlist.sharing(shown, context["programs"], request, ids))
    return render(request, "facilities/shortlist.html", context, status=400 if near_error else 200)


@require_http_methods(["GET", "HEAD"])
def shortlist_add(request, pk):
    """Save without JavaScript: the current list travels in `ids`, this id is added and the
    browser goes on to the list's own address. A plain link: idempotent, nothing stored."""
    wanted = shortlist.parse_ids(request.GET.getlist("ids"))
    ids = wanted.ids[: shortlist.MAX_PROGRAMS]
    if 0 < pk <= shortlist.MAX_ID:
        ids, full = shortlist.with_added(ids, pk)
    else:
        full = False
    back = shortlist.safe_back(request.GET.get("back"), request.get_host())
    return redirect(shortlist.page_url(ids, back=back, full="1" if full else ""))
