"""A shortlist without an account: the programs a person saved, carried in the address.

/shortlist/?ids=12,45,78 is the whole list: nothing about a visitor is stored on the
server. With JavaScript the list also lives in the browser (static/js/shortlist.js); the
page is always rendered from the ids in its address, so a copied link opens the same
list on another device.

This module parses the ids (any text: unknown, repeated, garbage), reads the saved
listings in two queries whatever their number (rows.read), and writes what the page
shows of them, with the texts "Send to my phone" (sms:) and "Email" (mailto:) fill in.
"""

import re
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from django.urls import reverse
from django.utils.formats import date_format
from django.utils.http import url_has_allowed_host_and_scheme

from . import geo, rows, selectors
from .models import Facility, facility_url
from .templatetags.finder import miles, schedule, tel_href

MAX_PROGRAMS = 10
# Distinct ids read at most: a list of 500 ids still costs one small query, and the
# first ten still listed are shown even when some before them were archived.
MAX_CANDIDATES = 50
# Longer parameters are cut here: a pasted or forged address can be any length.
MAX_PARAM_CHARS = 1000
# Ids are primary keys: anything larger is no listing (and would overflow the column).
MAX_ID = 2**31 - 1
# Garbage named back to the person, at most this many pieces, each cut short.
MAX_NAMED_GARBAGE = 5
MAX_BACK_CHARS = 2000

_ID = re.compile(r"^\d{1,10}$")
_SEPARATORS = re.compile(r"[,\s+;]+")


@dataclass
class Wanted:
    """The ids an address asks for, in order, and what was wrong with it."""

    ids: list = field(default_factory=list)  # distinct, valid, at most MAX_CANDIDATES
    garbage: list = field(default_factory=list)  # pieces that are not ids, as typed
    over_limit: bool = False  # more distinct ids than MAX_CANDIDATES
    cut: bool = False  # the parameter was longer than MAX_PARAM_CHARS


def parse_ids(values):
    """Wanted ids from the `ids` parameter's values ("12,45", or ids=12&ids=45).

    Empty pieces ("1,,2", a trailing comma) are skipped silently; repeats are kept once,
    in their first place; anything that is not a positive whole number up to MAX_ID
    ("abc", "-3", "1.5", 99999999999) is set aside as garbage.
    """
    if isinstance(values, str):
        values = [values]
    text = ",".join(values)
    wanted = Wanted(cut=len(text) > MAX_PARAM_CHARS)
    seen = set()
    for piece in _SEPARATORS.split(text[:MAX_PARAM_CHARS]):
        if not piece:
            continue
        number = int(piece) if _ID.match(piece) else 0
        if not 0 < number <= MAX_ID:
            wanted.garbage.append(piece)
            continue
        if number in seen:
            continue
        if len(wanted.ids) == MAX_CANDIDATES:
            wanted.over_limit = True
            continue
        seen.add(number)
        wanted.ids.append(number)
    return wanted


def ids_text(ids):
    return ",".join(str(pk) for pk in ids)


def page_url(ids, **extra):
    """/shortlist/?ids=12,45 (commas kept readable), then any other parameters given."""
    url = reverse("facilities:shortlist")
    query = f"ids={ids_text(ids)}" if ids else ""
    more = urlencode({name: value for name, value in extra.items() if value})
    query = "&".join(part for part in (query, more) if part)
    return f"{url}?{query}" if query else url


def with_added(ids, new_id):
    """(the list with new_id at its end, whether it was full): a saved id is kept once."""
    if new_id in ids:
        return list(ids), False
    if len(ids) >= MAX_PROGRAMS:
        return list(ids), True
    return [*ids, new_id], False


def safe_back(back, host):
    """The page a save came from, if it is a path on this site; else ""."""
    back = (back or "").strip()
    if not back or len(back) > MAX_BACK_CHARS or not back.startswith("/"):
        return ""
    if any(ord(character) < 32 for character in back):  # NUL, line breaks: never a path of ours
        return ""
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={host}):
        return ""
    return back


def back_with_list(back, ids):
    """The page a save came from, carrying the list (shortlist=12,45) so that its next
    "Save" adds to it without JavaScript."""
    parts = urlsplit(back)
    query = [(name, value) for name, value in parse_qsl(parts.query) if name != "shortlist"]
    if ids:
        query.append(("shortlist", ids_text(ids)))
    return urlunsplit(("", "", parts.path, urlencode(query, safe=","), ""))


def read(ids, place=None):
    """(the saved listings still published, in the order saved, as listing rows with their
    terms; the ids no longer listed). Two queries however many ids: the listings, then
    their lines (rows.read). Near a place, each row has its distance_miles."""
    if not ids:
        return [], []
    listings = selectors.published_facilities().filter(pk__in=ids).order_by()
    if place is not None:
        listings = listings.annotate(
            distance_miles=geo.distance_expression(place.latitude, place.longitude)
        )
    by_id = {row["id"]: row for row in rows.read(listings)}
    found = [by_id[pk] for pk in ids if pk in by_id]
    missing = [pk for pk in ids if pk not in by_id]
    return found, missing


def _address(row):
    place = f"{row['city']}, {row['state']} {row['zip']}".strip()
    street = ", ".join(part for part in (row["street1"], row["street2"]) if part)
    return f"{street}, {place}" if street else place


def call_number(row):
    """(number, what it is): the intake line, else the main number."""
    if row["intake_phone"]:
        return row["intake_phone"], "Intake"
    if row["phone"]:
        return row["phone"], "Main number"
    return "", ""


def program_text(row, absolute_url):
    """One program as a message: name, program, the number to call, address and link."""
    number, kind = call_number(row)
    lines = [row["name"]]
    if row["program_name"] and row["program_name"] != row["name"]:
        lines.append(row["program_name"])
    if number:
        lines.append(f"{'Call (intake)' if kind == 'Intake' else 'Call'}: {number}")
    lines.append(_address(row))
    lines.append(absolute_url)
    return "\n".join(lines)


def list_text(rows_with_urls, list_url):
    """The whole list as a message: each program, then the link that opens the list."""
    parts = [f"My IOP shortlist ({len(rows_with_urls)}):"]
    for number, (row, url) in enumerate(rows_with_urls, start=1):
        parts.append(f"{number}. {program_text(row, url)}")
    parts.append(f"Compare them: {list_url}")
    return "\n\n".join(parts)


def sms_href(body):
    """An sms: link that opens the person's own messaging app with `body` filled in and no
    recipient ("?&body=" is read by both Android and iOS). Spaces as %20, not "+"."""
    return "sms:?&body=" + quote(body, safe="")


def mailto_href(subject, body):
    """A mailto: link with subject and body (RFC 6068: line breaks as %0D%0A)."""
    body = body.replace("\r\n", "\n").replace("\n", "\r\n")
    return f"mailto:?subject={quote(subject, safe='')}&body={quote(body, safe='')}"


def sharing(shown, entries, request, ids):
    """The list's own link, and the whole list as an sms: and a mailto: link."""
    share_url = request.build_absolute_uri(page_url(ids))
    message = list_text(
        [(row, entry["absolute_url"]) for row, entry in zip(shown, entries, strict=True)],
        share_url,
    )
    subject = f"My IOP shortlist ({len(shown)} program{'' if len(shown) == 1 else 's'})"
    return {
        "share_url": share_url,
        "list_sms_href": sms_href(message),
        "list_mailto_href": mailto_href(subject, message),
    }


def _payment(row):
    labels = [term.label for term in row["payment_options"]]
    help_labels = [term.label for term in row["payment_assistance"]]
    return labels, help_labels


def program_entries(found, request, ids, extra):
    """What the page shows of each saved listing (templates/facilities/shortlist.html)."""
    entries = []
    for row in found:
        url = facility_url(row["slug"])
        absolute_url = request.build_absolute_uri(url)
        number, kind = call_number(row)
        distance = row.get("distance_miles")
        payment, payment_help = _payment(row)
        name = row["name"]
        entries.append(
            {
                "id": row["id"],
                "name": name,
                "program": row["program_name"] if row["program_name"] != name else "",
                "url": f"{url}?shortlist={ids_text(ids)}",
                "absolute_url": absolute_url,
                "address": _address(row),
                "fictional": row["source"] in Facility.FICTIONAL_SOURCES,
                "distance": miles(distance) if distance is not None else "",
                "call_phone": number,
                "call_href": tel_href(number) if number else "",
                "call_kind": kind,
                "payment": payment,
                "payment_help": payment_help,
                "schedule": schedule(row),
                "co_occurring": row["co_occurring"],
                "verified": date_format(row["verified_at"], "F j, Y") if row["verified_at"] else "",
                "sms_href": sms_href(program_text(row, absolute_url)),
                "mailto_href": mailto_href(f"IOP program: {name}", program_text(row, absolute_url)),
                "remove_url": page_url([pk for pk in ids if pk != row["id"]], **extra),
            }
        )
    return entries


def _printable(text):
    """Text as it may be shown back: control characters (NUL...) as "?"."""
    return "".join("?" if ord(character) < 32 else character for character in text)


def notes(wanted, missing, shown_count, found_count):
    """Sentences about what could not be shown, for the top of the page."""
    said = []
    if missing:
        numbers = ", ".join(f"#{pk}" for pk in missing[:MAX_PROGRAMS])
        more = f" and {len(missing) - MAX_PROGRAMS} more" if len(missing) > MAX_PROGRAMS else ""
        if len(missing) == 1:
            said.append(
                f"One saved program ({numbers}) is no longer listed: it may have closed or "
                "been removed, so it is left out."
            )
        else:
            said.append(
                f"{len(missing)} saved programs ({numbers}{more}) are no longer listed: they "
                "may have closed or been removed, so they are left out."
            )
    if found_count > shown_count or wanted.over_limit:
        said.append(
            f"A shortlist holds up to {MAX_PROGRAMS} programs: the first {MAX_PROGRAMS} "
            "still listed are shown, the rest are left out."
        )
    if wanted.garbage or wanted.cut:
        pieces = ", ".join(
            f"“{_printable(piece[:20])}”" for piece in wanted.garbage[:MAX_NAMED_GARBAGE]
        )
        said.append(
            "Part of this address is not a list of programs and was ignored"
            + (f": {pieces}" if pieces else "")
            + ("…" if len(wanted.garbage) > MAX_NAMED_GARBAGE or wanted.cut else "")
            + "."
        )
    return said
