"""Public pages. Only published listings are ever shown."""

from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render

from .models import Facility


def home(request):
    return render(request, "facilities/home.html", {})


def facility_list(request):
    facilities = Facility.objects.published().select_related("ownership")
    page = Paginator(facilities, 20).get_page(request.GET.get("page"))
    return render(request, "facilities/facility_list.html", {"page": page})


def facility_detail(request, slug):
    facility = get_object_or_404(Facility.objects.published(), slug=slug)
    return render(request, "facilities/facility_detail.html", {"facility": facility})
