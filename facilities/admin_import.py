"""The FindTreatment import in admin, for curators who do not use a shell.

Upload export pages -> see the dry-run report -> confirm to run it for real.
The uploaded content waits in the session between the two steps (no files on
disk, so it works with several web servers), within MAX_UPLOAD_BYTES.
"""

import base64
import secrets
from pathlib import PurePath

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from .importers.findtreatment import FindTreatmentImporter
from .models import Facility

SESSION_KEY = "findtreatment_import"
# What a session row comfortably holds; national imports belong to the shell command.
MAX_UPLOAD_BYTES = getattr(settings, "FINDTREATMENT_UPLOAD_MAX_BYTES", 5 * 1024 * 1024)
PERMISSION = "facilities.add_facility"
URL_NAME = "facilities_facility_import_findtreatment"


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ".json,application/json"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = [item for item in (data if isinstance(data, list | tuple) else [data]) if item]
        if not files:
            raise forms.ValidationError(self.error_messages["required"], code="required")
        return [super(MultipleFileField, self).clean(item, initial) for item in files]


class UploadForm(forms.Form):
    files = MultipleFileField(
        label="Export files",
        help_text="One or more FindTreatment.gov export pages (.json).",
    )
    publish = forms.BooleanField(
        required=False,
        label="Publish new listings at once",
        help_text="Otherwise they are drafts for you to review. Existing listings keep "
        "their publication state either way.",
    )

    def clean_files(self):
        files = self.cleaned_data["files"]
        total = sum(upload.size for upload in files)
        if total > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                f"The files add up to {total // 1024} KB; the limit here is "
                f"{MAX_UPLOAD_BYTES // 1024} KB. Import larger exports with "
                "“manage.py import_findtreatment”."
            )
        return [(PurePath(upload.name).name, upload.read()) for upload in files]


def _run(sources, publish, dry_run):
    return FindTreatmentImporter(publish=publish).run(sources, dry_run=dry_run)


def import_view(request, model_admin):
    if not request.user.has_perm(PERMISSION):
        raise PermissionDenied
    here = reverse(f"admin:{URL_NAME}")
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": Facility._meta,
        "title": "Import from FindTreatment.gov",
        "max_upload_kb": MAX_UPLOAD_BYTES // 1024,
    }
    action = request.POST.get("action") if request.method == "POST" else None

    if action in ("confirm", "cancel"):
        pending = request.session.pop(SESSION_KEY, None)
        if not pending or not secrets.compare_digest(
            str(pending.get("token")), request.POST.get("token", "")
        ):
            messages.error(request, "There is no upload waiting to be imported; upload again.")
            return redirect(here)
        if action == "cancel":
            messages.info(request, "Import cancelled; nothing was changed.")
            return redirect(here)
        sources = [(name, base64.b64decode(data)) for name, data in pending["files"]]
        report = _run(sources, pending["publish"], dry_run=False)
        level = messages.SUCCESS if report.ok else messages.WARNING
        messages.add_message(request, level, report.summary())
        context.update(report=report, done=True, form=UploadForm())
        return TemplateResponse(
            request, "admin/facilities/facility/import_findtreatment.html", context
        )

    form = UploadForm(request.POST, request.FILES) if request.method == "POST" else UploadForm()
    if form.is_bound and form.is_valid():
        sources, publish = form.cleaned_data["files"], form.cleaned_data["publish"]
        report = _run(sources, publish, dry_run=True)
        token = secrets.token_urlsafe(16)
        request.session[SESSION_KEY] = {
            "token": token,
            "publish": publish,
            "files": [[name, base64.b64encode(data).decode()] for name, data in sources],
        }
        context.update(
            report=report,
            token=token,
            publish=publish,
            file_names=[name for name, _ in sources],
            form=UploadForm(),
        )
        return TemplateResponse(
            request, "admin/facilities/facility/import_findtreatment.html", context
        )
    context["form"] = form
    return TemplateResponse(request, "admin/facilities/facility/import_findtreatment.html", context)


class FindTreatmentImportMixin:
    """Adds the import page to a ModelAdmin for Facility: `class FacilityAdmin(Mixin, ...)`."""

    def get_urls(self):
        view = self.admin_site.admin_view(self.import_findtreatment_view)
        return [path("import-findtreatment/", view, name=URL_NAME), *super().get_urls()]

    def import_findtreatment_view(self, request):
        return import_view(request, self)
