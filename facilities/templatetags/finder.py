"""Small display helpers for the public pages."""

import html
import re
from urllib.parse import urlencode

from django import template
from django.utils.safestring import mark_safe

from ..text import digits

register = template.Library()

_EXTENSION = re.compile(r"\s*(?:x|ext\.?)\s*(\d+)\s*$", re.IGNORECASE)


@register.filter
def tel_href(phone):
    """tel: link for a US phone number, with ;ext= for an extension (RFC 3966)."""
    phone = phone or ""
    extension = _EXTENSION.search(phone)
    number = digits(_EXTENSION.sub("", phone))
    if len(number) == 10:
        number = "+1" + number
    elif len(number) == 11 and number.startswith("1"):
        number = "+" + number
    href = f"tel:{number}"
    if extension:
        href += f";ext={extension.group(1)}"
    return href


@register.filter
def schedule(listing):
    """IOP schedule in a few words: ["9-12 hours a week", "Evening", ...], of a listing row
    (rows.read: the flat schedule) or a ServiceLine."""
    values = listing if isinstance(listing, dict) else listing.__dict__
    parts = []
    low, high = values["hours_per_week_min"], values["hours_per_week_max"]
    if low and high and low != high:
        parts.append(f"{low}–{high} hours a week")
    elif low or high:
        parts.append(f"{low or high} hours a week")
    for flag, label in (
        ("offers_daytime", "Daytime"),
        ("offers_evening", "Evening"),
        ("offers_weekend", "Weekend"),
        ("offers_virtual", "Virtual option"),
    ):
        if values[flag]:
            parts.append(label)
    return parts


# The stdlib escape is what django.utils.html.escape does, without its lazy-text wrapper:
# the tags below escape several hundred values a page.
_escape = html.escape


def _error_messages(messages):
    prefix = '<p class="error-message"><span class="visually-hidden">Error:</span> '
    return "".join(f"{prefix}{_escape(str(message))}</p>" for message in messages)


@register.simple_tag
def checkbox_group(group):
    """A vocabulary filter (search.page._checkbox_group) as a fieldset of checkboxes. Written here
    rather than as an included template with a loop: the search page has 84 checkboxes in
    7 groups, and the template version cost a fifth of the page."""
    name = _escape(group["name"])
    parts = [
        f'<fieldset class="group bare{" has-error" if group["errors"] else ""}">',
        f"<legend>{_escape(group['legend'])}</legend>",
    ]
    if group["hint"]:
        parts.append(f'<p class="hint">{_escape(group["hint"])}</p>')
    parts.append(_error_messages(group["errors"]))
    empty_means_all = group.get("empty_means_all")
    if empty_means_all:
        parts.append(f'<input type="hidden" name="{name}" value="">')
    for option in group["options"]:
        code = _escape(option["code"])
        css = "check child" if option["child"] else "check"
        checked = " checked" if option["checked"] else ""
        parts.append(
            f'<div class="{css}"><input type="checkbox" name="{name}" value="{code}" '
            f'id="id_{name}_{code}"{checked}><label for="id_{name}_{code}">'
            f"{_escape(option['label'])}</label></div>"
        )
    if empty_means_all:
        parts.append('<p class="hint">Tick none to see every level of care.</p>')
    parts.append("</fieldset>")
    return mark_safe("\n".join(parts))  # noqa: S308  (every value escaped above)


@register.simple_tag
def checkbox_flag(flag):
    """A yes/no filter (search.page._flag) as one checkbox, with its errors."""
    name = _escape(flag["name"])
    checked = " checked" if flag["checked"] else ""
    return mark_safe(  # noqa: S308  (every value escaped)
        f'<div class="check{" has-error" if flag["errors"] else ""}" id="field-flag-{name}">'
        f"{_error_messages(flag['errors'])}"
        f'<input type="checkbox" name="{name}" value="true" id="id_{name}"{checked}>'
        f'<label for="id_{name}">{_escape(flag["label"])}</label></div>'
    )


@register.simple_tag
def select_options(choices, selected):
    """<option>s for (value, label) pairs, those in `selected` selected (56 states)."""
    return mark_safe(  # noqa: S308  (every value escaped)
        "".join(
            f'<option value="{_escape(value)}"{" selected" if value in selected else ""}>'
            f"{_escape(label)}</option>"
            for value, label in choices
        )
    )


@register.filter
def miles(value):
    """One decimal: 3.2 miles (1 mile)."""
    if value is None:
        return ""
    rounded = round(float(value), 1)
    return "1 mile" if rounded == 1 else f"{rounded:.1f} miles"


@register.filter
def minutes(value):
    """180 -> "3 hours", 90 -> "1 hour 30 minutes", 45 -> "45 minutes"."""
    if not value:
        return ""
    hours, rest = divmod(int(value), 60)
    parts = []
    if hours:
        parts.append(f"{hours} hour{'s' if hours != 1 else ''}")
    if rest:
        parts.append(f"{rest} minute{'s' if rest != 1 else ''}")
    return " ".join(parts)


@register.simple_tag
def directions_url(facility):
    """A link to directions; it is only a link, nothing is fetched.

    A ZIP-centre estimate would send people to the wrong street: search the address instead.
    """
    if facility.latitude is not None and not facility.location_approximate:
        return "https://www.openstreetmap.org/directions?" + urlencode(
            {"to": f"{facility.latitude:.5f},{facility.longitude:.5f}"}
        )
    address = ", ".join(
        part for part in (facility.street1, facility.city, facility.state, facility.zip) if part
    )
    return "https://www.openstreetmap.org/search?" + urlencode({"query": address})


@register.simple_tag(takes_context=True)
def absolute(context, path):
    """The full address of a page on this site (printed next to links)."""
    request = context.get("request")
    return request.build_absolute_uri(path) if request else path


@register.simple_tag(takes_context=True)
def page_url(context, number):
    """The results URL for another page, keeping every filter."""
    query = context.get("page_query", "")
    return f"?{query}&page={number}" if query else f"?page={number}"


_COUNTY_WORDS = ("county", "parish", "borough", "census area", "municipality", "city")


@register.filter
def county_label(county):
    """ "Hinds" -> "Hinds County"; "Hinds County" and "Orleans Parish" stay as they are."""
    county = (county or "").strip()
    if not county or county.lower().endswith(_COUNTY_WORDS):
        return county
    return f"{county} County"
