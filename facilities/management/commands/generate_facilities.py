"""Generate clearly fictional facility listings, fast, for benchmarks and the demo fixture.

    manage.py generate_facilities --count 100000 --seed 1 --replace
    make demo-fixture     # the demo fixture: --source demo --fixture ... (see the Makefile)

Listings go in with bulk_create, a batch at a time, followed by the batch's
service lines (bulk_create too) and their many-to-many rows; Facility.save()
never runs, so the slug and city_key it would set are computed by the
generator, and no history is written. --replace deletes the earlier listings
a table at a time, without history either. All in one transaction: an
interrupted run leaves nothing behind.
"""

import datetime
import gc
import io
import itertools
import time

from django.core import serializers
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from facilities.models import Facility, ProblemReport, ServiceLine, Term, data_changed
from facilities.synthetic import TERM_FIELDS, Generator, parse_states

# Left out of the fixture (listings and lines): defaults or empty for generated
# listings, and noise in a diff.
FIXTURE_SKIPS = {"id", "curated_fields", "source_record", "verified_by"}


def batched(iterable, size):
    iterator = iter(iterable)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


def insert_links(through, pairs):
    """Insert (serviceline_id, term_id) rows into a service line's many-to-many table.

    About 60 of these per listing: building a model instance for each (what
    bulk_create does) cost four times as long as everything else together,
    so they go in as plain rows: COPY on PostgreSQL, executemany elsewhere.
    """
    if not pairs:
        return
    quote = connection.ops.quote_name
    table = quote(through._meta.db_table)
    columns = ", ".join(
        quote(through._meta.get_field(name).column) for name in ("serviceline", "term")
    )
    with connection.cursor() as cursor:
        raw = cursor.cursor
        if connection.vendor == "postgresql" and hasattr(raw, "copy_expert"):  # psycopg2
            rows = io.StringIO("".join(f"{line}\t{term}\n" for line, term in pairs))
            raw.copy_expert(f"COPY {table} ({columns}) FROM STDIN", rows)
        else:
            cursor.executemany(
                f"INSERT INTO {table} ({columns}) VALUES (%s, %s)",  # noqa: S608 (names, not input)
                pairs,
            )


def delete_listings(listings):
    """Delete these listings with their lines, the lines' terms and the listings' problem
    reports, a table at a time; return how many rows went.

    QuerySet.delete() sends a signal for every row, on which simple-history writes a
    "deleted" entry with a snapshot of the line's 13 term fields and the data version
    goes up: 250 s for 20,000 generated listings. Fictional listings about to be
    generated again need none of that; the data version goes up once.
    """
    lines = ServiceLine.objects.filter(facility__in=listings)
    deleted = sum(
        # Link tables have no signals: Django deletes them in one statement each.
        getattr(ServiceLine, name).through.objects.filter(serviceline__in=lines).delete()[0]
        for name in TERM_FIELDS
    )
    deleted += ProblemReport.objects.filter(facility__in=listings).delete()[0]
    # _raw_delete: what delete() runs for rows without signals (one DELETE ... WHERE).
    deleted += lines._raw_delete(lines.db)
    deleted += listings._raw_delete(listings.db)
    if deleted:
        data_changed.send(sender=Facility)
    return deleted


class Command(BaseCommand):
    help = "Generate fictional facility listings (555-01xx phones, example.org) quickly."

    def add_arguments(self, parser):
        parser.add_argument(
            "--count",
            type=int,
            help="How many listings (default: the sum of the --states counts).",
        )
        parser.add_argument("--seed", type=int, default=1, help="Same seed, same listings.")
        parser.add_argument(
            "--states",
            default="",
            help="Only these states, e.g. MS,VA (shared by population) or MS:30,VA:20 "
            "(fixed counts); default: every state, by 2020 population.",
        )
        parser.add_argument(
            "--source",
            choices=[Facility.Source.SYNTHETIC, Facility.Source.DEMO],
            default=Facility.Source.SYNTHETIC,
        )
        parser.add_argument(
            "--replace",
            action="store_true",
            help="Delete the listings of this source generated earlier first.",
        )
        parser.add_argument(
            "--iop-share",
            type=float,
            default=0.55,
            help="Share of listings offering intensive outpatient (OIT); default 0.55.",
        )
        parser.add_argument(
            "--as-of",
            type=datetime.date.fromisoformat,
            help="Verification dates fall in the two years before this day (default today).",
        )
        parser.add_argument(
            "--fixture",
            help="Write the listings to this JSON fixture (natural keys) and leave the "
            "database as it was.",
        )
        parser.add_argument("--batch-size", type=int, default=5000)

    def handle(self, *args, **options):
        self.verbosity = options["verbosity"]
        try:
            states = parse_states(options["states"])
        except ValueError as error:
            raise CommandError(error) from None
        count = options["count"]
        if count is None:
            if not states or None in states.values():
                raise CommandError("Give --count, or a count for every state in --states.")
            count = sum(states.values())
        if count < 0:
            raise CommandError("--count cannot be negative.")
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1.")
        if not 0 <= options["iop_share"] <= 1:
            raise CommandError("--iop-share is a share between 0 and 1.")

        started = time.monotonic()
        source, fixture = options["source"], options["fixture"]
        with transaction.atomic():
            if fixture:
                taken = ()  # the fixture must not depend on what this database holds
            else:
                if options["replace"]:
                    deleted = delete_listings(Facility.objects.filter(source=source))
                    self.log(
                        f"Deleted earlier {source} listings ({deleted:,} rows with their links) "
                        f"({time.monotonic() - started:.1f} s)."
                    )
                taken = Facility.objects.values_list("slug", flat=True).iterator()
            generator = Generator(
                options["seed"],
                source,
                as_of=options["as_of"],
                iop_share=options["iop_share"],
                taken_slugs=taken,
            )
            try:
                listings = generator.listings(count, states)
                if fixture:
                    listings = list(listings)
                    slugs = [listing["fields"]["slug"] for listing in listings]
                    # Rolled back below: only clears the way for these slugs.
                    delete_listings(Facility.objects.filter(slug__in=slugs))
                pks = self.insert(listings, count, options["batch_size"], started)
            except ValueError as error:
                raise CommandError(error) from None
            if fixture:
                self.write_fixture(fixture, pks, generator.as_of)
                transaction.set_rollback(True)
        elapsed = time.monotonic() - started
        where = f"written to {fixture}" if fixture else "created"
        self.log(f"{len(pks):,} {source} listings {where} in {elapsed:.1f} s.")

    def log(self, message):
        if self.verbosity > 0:
            self.stdout.write(message)

    def insert(self, listings, count, batch_size, started):
        """bulk_create the listings, their lines and the lines' terms; return the new pks."""
        term_ids = {}
        for term_id, group, code in Term.objects.values_list("id", "group", "code"):
            term_ids.setdefault(group, {})[code] = term_id
        pks = []
        # What is alive now lives to the end (Django's state, the ZIP table cities are
        # drawn from): kept out of the garbage collector's scans, which took a third of
        # the generator's time. Each batch's objects are freed by reference counting.
        gc.freeze()
        try:
            for batch in batched(listings, batch_size):
                pks += self.insert_batch(batch, term_ids)
                elapsed = time.monotonic() - started
                self.log(f"  {len(pks):>9,} / {count:,} listings  ({elapsed:.1f} s)")
        finally:
            gc.unfreeze()
        return pks

    def insert_batch(self, batch, term_ids):
        """One batch of listings with their lines and the lines' terms; their pks."""
        ownership_ids = term_ids.get("ownership", {})
        facilities = Facility.objects.bulk_create(
            [
                Facility(ownership_id=ownership_ids.get(row["ownership"]), **row["fields"])
                for row in batch
            ]
        )
        pks = [facility.pk for facility in facilities]
        drawn = [line for row in batch for line in row["lines"]]
        lines = ServiceLine.objects.bulk_create(
            [
                ServiceLine(facility_id=pk, kind=line["kind"], **line["fields"])
                for pk, row in zip(pks, batch, strict=True)
                for line in row["lines"]
            ]
        )
        line_ids = [line.pk for line in lines]
        for name in TERM_FIELDS:
            ids = term_ids.get(TERM_FIELDS[name], {})
            insert_links(
                getattr(ServiceLine, name).through,
                [
                    (line_id, ids[code])
                    for line_id, line in zip(line_ids, drawn, strict=True)
                    for code in line["terms"][name]
                    if code in ids  # a curator may have removed a built-in term
                ],
            )
        if connection.vendor == "postgresql":
            # Run this batch's deferred foreign-key checks now (checking them
            # deferred is faster than row by row) instead of queueing
            # millions of them in memory for COMMIT.
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        return pks

    def write_fixture(self, path, pks, as_of):
        """Serialize as `dumpdata --natural-foreign --natural-primary --indent 1` would:
        the listings, then their lines (natural key: listing slug and kind), so that the
        file loads into a database that holds other listings, or these already."""
        # Fixed timestamps keep the file identical from one regeneration to the next.
        stamp = datetime.datetime.combine(as_of, datetime.time(12), tzinfo=datetime.UTC)
        listings = Facility.objects.filter(pk__in=pks)
        listings.update(created_at=stamp, updated_at=stamp)
        lines = (
            ServiceLine.objects.filter(facility__in=pks)
            .select_related("facility")  # its slug is the line's natural key
            .prefetch_related(*TERM_FIELDS)
            .order_by("facility_id", "-kind")  # SA first, as ServiceLine orders them
        )
        fields = [
            field.name
            for model in (Facility, ServiceLine)
            for field in model._meta.local_fields + model._meta.local_many_to_many
            if field.name not in FIXTURE_SKIPS
        ]
        data = serializers.serialize(
            "json",
            itertools.chain(listings.order_by("pk"), lines),
            indent=1,
            use_natural_foreign_keys=True,
            use_natural_primary_keys=True,
            fields=fields,
        )
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(data + "\n")
