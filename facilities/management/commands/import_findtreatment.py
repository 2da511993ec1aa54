"""manage.py import_findtreatment PATH [PATH ...] [--dry-run] [--publish]"""

from django.core.management.base import BaseCommand, CommandError

from facilities.importers.findtreatment import import_paths


class Command(BaseCommand):
    help = (
        "Import FindTreatment.gov export pages (files, or folders of .json files). Good rows "
        "are imported and bad rows rejected; the exit status is 1 when anything was rejected."
    )

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", metavar="PATH")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Do everything, report it, then roll it all back.",
        )
        parser.add_argument(
            "--publish",
            action="store_true",
            help="Publish new listings at once (they are drafts otherwise).",
        )
        parser.add_argument(
            "--strict",
            action="store_true",
            help="Also exit 1 when some labels could not be mapped.",
        )

    def handle(self, *args, paths, dry_run, publish, strict, **options):
        report = import_paths(
            paths,
            publish=publish,
            dry_run=dry_run,
            progress=lambda message: self.stderr.write(message),
        )
        for line in report.lines():
            self.stdout.write(line)
        if not report.ok:
            raise CommandError(f"{len(report.rejected)} file(s) or row(s) rejected (see above).")
        if strict and report.unmapped:
            raise CommandError(f"{len(report.unmapped)} label(s) could not be mapped (--strict).")
