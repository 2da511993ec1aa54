# Service lines (issue 12), second step: every listing gets its lines, from what it holds.
#
# - A FindTreatment.gov listing whose kept source rows (source_record["rows"]) give back,
#   through today's mapping, exactly the terms it has now gets one line per row type (SA,
#   MH) with that row type's terms: the merged union is split into its two programs.
# - Any other listing (entered by hand, demo data, a listing whose terms a curator edited
#   or that drifted from its rows) gets one line holding its terms as they are: nothing
#   is guessed. Its kind is its rows' type where they have one type, else substance use;
#   a curator can split it in admin.
# - The IOP schedule goes to the line that offers IOP (else the first line); curated term
#   and schedule fields move to the lines' curated_fields.
#
# No listing is lost and no term either: the union of a listing's lines is what it had
# (tests/test_service_lines_migration.py counts both). History of the new lines starts
# with the next change; `manage.py baseline_history` gives them a first entry now.

from django.db import migrations

TERM_FIELDS = [
    "levels_of_care", "payment_options", "payment_assistance", "populations", "age_groups",
    "genders", "languages", "medications", "approaches", "therapies", "conditions",
    "services", "accreditations",
]  # fmt: skip
SCHEDULE_FIELDS = [
    "hours_per_week_min", "hours_per_week_max", "sessions_per_week",
    "session_length_minutes", "duration_weeks", "offers_daytime", "offers_evening",
    "offers_weekend", "offers_virtual", "transportation_assistance",
]  # fmt: skip
BATCH = 2000


def _lines_from_rows(facility, current, vocabulary):
    """{kind: {field: term ids}} re-derived from the kept rows, or None where that would
    not give back exactly the listing's terms (curated, drifted, or no rows)."""
    from facilities.importers import findtreatment

    record = facility.source_record if isinstance(facility.source_record, dict) else {}
    rows = [row for row in record.get("rows") or [] if isinstance(row, dict)]
    curated = set(facility.curated_fields or [])
    if facility.source != "findtreatment" or not rows or curated & set(TERM_FIELDS):
        return None
    try:
        derived = findtreatment.derive(findtreatment._sort_rows(rows), vocabulary)
    except Exception:  # noqa: BLE001  (an odd old record: keep the listing as it is)
        return None
    for name in TERM_FIELDS:
        union = set().union(*(terms[name] for terms in derived.lines.values()))
        if union != current.get(name, set()):
            return None
    return derived.lines


def _single_kind(facility):
    from facilities.importers import findtreatment

    record = facility.source_record if isinstance(facility.source_record, dict) else {}
    kinds = {findtreatment.row_kind(row) for row in record.get("rows") or [] if isinstance(row, dict)}
    return kinds.pop() if len(kinds) == 1 else "SA"


def split_listings(apps, schema_editor):
    from facilities.importers import findtreatment

    db = schema_editor.connection.alias
    Facility = apps.get_model("facilities", "Facility")
    ServiceLine = apps.get_model("facilities", "ServiceLine")
    Term = apps.get_model("facilities", "Term")
    vocabulary = findtreatment.Vocabulary(
        findtreatment.Mapping.load(), terms=list(Term.objects.using(db).all())
    )
    oit = Term.objects.using(db).filter(group="level_of_care", code="OIT").first()
    facility_through = {n: Facility._meta.get_field(n).remote_field.through for n in TERM_FIELDS}
    line_through = {n: ServiceLine._meta.get_field(n).remote_field.through for n in TERM_FIELDS}

    last_pk = 0
    while True:
        facilities = list(
            Facility.objects.using(db).filter(pk__gt=last_pk).order_by("pk")[:BATCH]
        )
        if not facilities:
            break
        last_pk = facilities[-1].pk
        first_pk = facilities[0].pk
        current = {}  # facility id -> {field: {term id}}
        for name, through in facility_through.items():
            links = through.objects.using(db).filter(
                facility_id__gte=first_pk, facility_id__lte=last_pk
            )
            for facility_id, term_id in links.values_list("facility_id", "term_id"):
                current.setdefault(facility_id, {}).setdefault(name, set()).add(term_id)

        planned = []  # (facility, kind, {field: ids})
        for facility in facilities:
            terms = current.get(facility.pk, {})
            lines = _lines_from_rows(facility, terms, vocabulary)
            if lines is None:
                lines = {_single_kind(facility): {n: terms.get(n, set()) for n in TERM_FIELDS}}
            for kind in sorted(lines, reverse=True):  # SA first
                planned.append((facility, kind, lines[kind]))

        by_facility = {}
        for facility, kind, terms in planned:
            by_facility.setdefault(facility.pk, []).append((kind, terms))
        new_lines = []
        for facility in facilities:
            plan = by_facility[facility.pk]
            iop_at = next(
                (i for i, (_, terms) in enumerate(plan) if oit and oit.pk in terms["levels_of_care"]),
                0,
            )
            curated = set(facility.curated_fields or [])
            line_curated = sorted(curated & set(TERM_FIELDS + SCHEDULE_FIELDS))
            for position, (kind, _) in enumerate(plan):
                line = ServiceLine(facility_id=facility.pk, kind=kind, curated_fields=line_curated)
                if position == iop_at:
                    for name in SCHEDULE_FIELDS:
                        setattr(line, name, getattr(facility, name))
                new_lines.append(line)
            if line_curated:
                facility.curated_fields = sorted(curated - set(line_curated))
                facility.save(update_fields=["curated_fields"])
        created = ServiceLine.objects.using(db).bulk_create(new_lines)
        for line, (_, _, terms) in zip(created, planned, strict=True):
            line._terms = terms
        for name, through in line_through.items():
            through.objects.using(db).bulk_create(
                through(serviceline_id=line.pk, term_id=term_id)
                for line in created
                for term_id in sorted(line._terms[name])
            )


def join_lines(apps, schema_editor):
    """Back to 0007: each listing's terms are the union of its lines', its schedule the
    IOP line's (the first line's otherwise); the lines are removed."""
    db = schema_editor.connection.alias
    Facility = apps.get_model("facilities", "Facility")
    ServiceLine = apps.get_model("facilities", "ServiceLine")
    for name in TERM_FIELDS:
        facility_through = Facility._meta.get_field(name).remote_field.through
        line_through = ServiceLine._meta.get_field(name).remote_field.through
        pairs = set(
            line_through.objects.using(db).values_list("serviceline__facility_id", "term_id")
        )
        facility_through.objects.using(db).bulk_create(
            facility_through(facility_id=facility_id, term_id=term_id)
            for facility_id, term_id in sorted(pairs)
        )
    lines = ServiceLine.objects.using(db).order_by("facility_id", "-kind", "pk")
    iop = set(
        lines.filter(levels_of_care__group="level_of_care", levels_of_care__code="OIT")
        .values_list("pk", flat=True)
    )
    shown = {}
    for line in lines:
        if line.facility_id not in shown or (line.pk in iop and shown[line.facility_id].pk not in iop):
            shown[line.facility_id] = line
    for facility_id, line in shown.items():
        Facility.objects.using(db).filter(pk=facility_id).update(
            **{name: getattr(line, name) for name in SCHEDULE_FIELDS}
        )
    lines.delete()


class Migration(migrations.Migration):
    dependencies = [
        ("facilities", "0007_service_lines"),
    ]

    operations = [
        migrations.RunPython(split_listings, join_lines, elidable=False),
    ]
