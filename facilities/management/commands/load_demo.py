"""manage.py load_demo: what `make run` shows on a fresh machine. Safe to run again."""

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import transaction
from django.test.utils import override_settings

from facilities.history import record_history
from facilities.importers.findtreatment import import_paths
from facilities.models import Facility, ServiceLine

FIXTURES = settings.BASE_DIR / "fixtures"
DEMO_FIXTURE = FIXTURES / "demo_facilities.json"
SAMPLE = FIXTURES / "findtreatment-sample.json"


class Command(BaseCommand):
    help = "Load the fictional demo listings (if present) and import the FindTreatment sample."

    def handle(self, *args, **options):
        if not DEMO_FIXTURE.exists():
            self.stdout.write(f"No {DEMO_FIXTURE.name}; no demo listings to load.")
        elif Facility.objects.filter(source=Facility.Source.DEMO).exists():
            # Loading again would undo what someone changed in admin since.
            self.stdout.write("Demo listings already loaded; left as they are.")
        else:
            # loaddata would write a history entry per vocabulary field of every service
            # line; load without history, then give each listing and line one first entry.
            with transaction.atomic():
                with override_settings(SIMPLE_HISTORY_ENABLED=False):
                    call_command("loaddata", str(DEMO_FIXTURE), verbosity=0)
                demo = Facility.objects.filter(source=Facility.Source.DEMO)
                lines = ServiceLine.objects.filter(facility__source=Facility.Source.DEMO)
                record_history(demo, reason="Demo data loaded", created=True)
                record_history(lines, reason="Demo data loaded", created=True)
            count, line_count = demo.count(), lines.count()
            self.stdout.write(
                f"Loaded {count} demo listing(s) with {line_count} service line(s) "
                f"from {DEMO_FIXTURE.name}."
            )

        report = import_paths([SAMPLE], publish=True)
        self.stdout.write(f"Imported {SAMPLE.name}: {report.summary()}")
        for where, reason in report.rejected:
            self.stderr.write(f"REJECTED: {where}: {reason}")
