"""Give every listing, service line and term without history a first entry, with its terms.

Run once after the history tables are created on a database that already has data,
so the first curator edit shows as a change against something. (simple-history's
populate_history leaves the vocabularies out of that entry.)
"""

from django.core.management.base import BaseCommand
from django.db import transaction

from facilities.history import record_history
from facilities.models import Facility, ServiceLine, Term

BATCH = 1000


class Command(BaseCommand):
    help = "Record a first history entry for listings and terms that have none."

    def handle(self, *args, **options):
        for model in (Term, Facility, ServiceLine):
            has_history = model.history.values(model._meta.pk.attname)
            missing = model.objects.exclude(pk__in=has_history).order_by("pk")
            total = 0
            while batch := list(missing[:BATCH]):
                with transaction.atomic():
                    record_history(batch, reason="Baseline: history starts here")
                total += len(batch)
            self.stdout.write(f"{model._meta.verbose_name_plural}: {total} recorded")
