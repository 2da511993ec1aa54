"""The state-guide summary in words, from the figures selectors.summary computes.

"There are 28 facilities providing IOP in Mississippi. Of those, 12 are private
for-profit, 10 private non-profit, 5 run by local, county or community government
and 1 by the federal government. ..."
"""

from django.db.models import Count, Q

from . import data_version, selectors

# Ownership in the guides' words; "run by" is said once, then just "by".
OWNERSHIP_PHRASES = [
    ("PVTP", "private for-profit", False),
    ("PVTN", "private non-profit", False),
    ("STG", "state government", True),
    ("LCCG", "local, county or community government", True),
    ("TBG", "a tribal government", True),
    ("FED", "the federal government", True),
]
# The payments the guides name, in their order.
PAYMENT_PHRASES = [
    ("PI", "private insurance"),
    ("MC", "Medicare"),
    ("MD", "Medicaid"),
    ("MI", "military insurance"),
]


def _join(items):
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def iop_listings(queryset=None):
    """Published listings offering IOP: what the state and city pages count."""
    queryset = selectors.published_facilities() if queryset is None else queryset
    return queryset.filter(selectors.has_line(selectors.line_offers_iop()))


def summary_sentences(figures, place):
    """The guide's paragraph as a list of sentences (empty when there is nothing to say)."""
    total = figures["facility_count"]
    if not total:
        return []
    sentences = [
        f"There is 1 facility providing IOP in {place}."
        if total == 1
        else f"There are {total} facilities providing IOP in {place}."
    ]

    parts, said_run_by = [], False
    for code, words, is_government in OWNERSHIP_PHRASES:
        count = figures["ownership"].get(code)
        if not count:
            continue
        if is_government:
            words = ("by " if said_run_by else "run by ") + words
            said_run_by = True
        if total == 1:
            parts.append(f"It is {words}")
            break
        if not parts:
            words = ("is " if count == 1 else "are ") + words
        parts.append(f"{count} {words}")
    if total == 1 and parts:
        sentences.append(parts[0] + ".")
    elif parts:
        sentences.append(f"Of those, {_join(parts)}.")

    co_occurring = figures["co_occurring_count"]
    if co_occurring:
        verb = "treats" if co_occurring == 1 else "treat"
        sentences.append(f"{co_occurring} also {verb} co-occurring mental health disorders.")

    payments = [(figures["payment_options"].get(code, 0), words) for code, words in PAYMENT_PHRASES]
    payments = [f"{count} {words}" for count, words in payments if count]
    assisted = figures["financial_assistance_count"]
    payment_sentence = ""
    if payments:
        first_count, first_words = payments[0].split(" ", 1)
        verb = "accepts" if first_count == "1" else "accept"
        payment_sentence = ", ".join([f"{first_count} {verb} {first_words}"] + payments[1:])
    if assisted:
        offer = "offers" if assisted == 1 else "offer"
        assistance = f"{assisted} {offer} financial assistance"
        payment_sentence = f"{payment_sentence}; {assistance}" if payment_sentence else assistance
    if payment_sentence:
        sentences.append(payment_sentence[0].upper() + payment_sentence[1:] + ".")
    return sentences


def state_counts(queryset=None):
    """{state: (iop_count, all_count)} over published listings, in one query.

    Over every published listing (the home and states pages) it is cached per data
    version: it reads all 100,000 of them.
    """
    if queryset is None:
        return data_version.cached(
            "state-counts", lambda: _state_counts(selectors.published_facilities())
        )
    return _state_counts(queryset)


def _state_counts(queryset):
    rows = (
        queryset.annotate(is_iop=selectors.has_line(selectors.line_offers_iop()))
        .values("state")
        .annotate(iop=Count("id", filter=Q(is_iop=True)), total=Count("id"))
        .order_by()
    )
    return {row["state"]: (row["iop"], row["total"]) for row in rows}
