"""Shared by the FindTreatment import, export and admin tests."""

import copy
import json
from io import StringIO

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.forms.models import model_to_dict

from facilities.importers.findtreatment import M2M_FIELDS
from facilities.models import Facility

SAMPLE = settings.BASE_DIR / "fixtures" / "findtreatment-sample.json"


def sample_page():
    return json.loads(SAMPLE.read_text())


def sample_row(irow):
    return copy.deepcopy(next(r for r in sample_page()["rows"] if r["_irow"] == irow))


def write_page(path, rows, **extra):
    path.write_text(json.dumps({"page": 1, "totalPages": 1, "recordCount": len(rows),
                                "rows": rows, **extra}))  # fmt: skip
    return path


def run_import(*args):
    """(exit status, stdout, stderr) of manage.py import_findtreatment."""
    out, err = StringIO(), StringIO()
    try:
        call_command("import_findtreatment", *map(str, args), stdout=out, stderr=err)
        status = 0
    except CommandError as error:
        err.write(str(error))
        status = 1
    return status, out.getvalue(), err.getvalue()


def codes(facility, field, kind=None):
    """A listing's codes in one field: of its `kind` line, else over all its lines."""
    lines = facility.lines.all() if kind is None else facility.lines.filter(kind=kind)
    return {code for line in lines for code in getattr(line, field).values_list("code", flat=True)}


def kinds(facility):
    return [line.kind for line in facility.lines.all()]


def snapshot():
    """Everything about every listing, to compare before and after."""
    state = []
    for facility in Facility.objects.order_by("pk"):
        values = model_to_dict(facility)
        values.update(
            pk=facility.pk,
            slug=facility.slug,
            updated_at=facility.updated_at,
            source_record=facility.source_record,
            curated_fields=facility.curated_fields,
            city_key=facility.city_key,
        )
        values["lines"] = {
            line.kind: {
                "curated_fields": line.curated_fields,
                **{field: sorted(getattr(line, field).values_list("code", flat=True))
                   for field in M2M_FIELDS},
            }
            for line in facility.lines.all()
        }  # fmt: skip
        state.append(values)
    return state
