"""Django admin as the curation tool: keep listings true, vocabularies tidy, reports answered."""

import json
from datetime import timedelta

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.utils import build_q_object_from_lookup_parameters, unquote
from django.contrib.admin.widgets import AutocompleteSelectMultiple
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connections, models, router, transaction
from django.db.models import Count, Exists, OuterRef, Q
from django.forms.models import BaseInlineFormSet
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from simple_history.models import to_historic

from .admin_import import FindTreatmentImportMixin
from .history import HistoryAdmin, OneHistoryEntryPerSaveForm, save_in_bulk
from .locking import VersionCheckedForm
from .models import SCHEDULE_FIELDS, TERM_FIELDS, Facility, ProblemReport, ServiceLine, Term

FICTIONAL_WARNING = (
    "Demo data: this listing is fictional. Its name, address and phone numbers are made up "
    "(555-01xx numbers, example.org websites)."
)


def stale_before():
    """Listings verified before this date are stale."""
    return timezone.localdate() - timedelta(days=settings.STALE_AFTER_DAYS)


def plural(count, singular, many):
    return f"{count} {singular if count == 1 else many}"


def add_curated(obj, names):
    """Remember fields a curator set by hand, so imports leave them alone."""
    obj.curated_fields = sorted(set(obj.curated_fields or []) | set(names))


class CurationForm(VersionCheckedForm, OneHistoryEntryPerSaveForm):
    """Edit forms refuse stale saves (locking.py) and write one history entry (history.py)."""


def locked_rows(queryset):
    """The selected rows, locked until the transaction ends (a bulk action's version bump)."""
    model = queryset.model
    return model._default_manager.filter(pk__in=queryset.values("pk")).select_for_update()


class VerificationFilter(admin.SimpleListFilter):
    title = "verification"
    parameter_name = "verification"

    def lookups(self, request, model_admin):
        return [
            ("never", "Never verified"),
            ("stale", f"Stale (over {settings.STALE_AFTER_DAYS} days)"),
            ("current", "Current"),
        ]

    def queryset(self, request, queryset):
        if self.value() == "never":
            return queryset.filter(verified_at__isnull=True)
        if self.value() == "stale":
            return queryset.filter(verified_at__lt=stale_before())
        if self.value() == "current":
            return queryset.filter(verified_at__gte=stale_before())
        return queryset


class LineTermFilter(admin.RelatedOnlyFieldListFilter):
    """A filter on a service line's vocabulary ("lines__payment_options"). With several,
    ONE line must meet them all, as on the public search: a place whose substance use
    line is IOP and whose mental health line takes Medicaid is no Medicaid IOP.
    """

    def has_output(self):
        # Django leaves out (and so ignores) a filter with one choice or none: one asked
        # for by the address must still apply, even if no line has its term (no results).
        return bool(self.used_parameters) or super().has_output()

    def queryset(self, request, queryset):
        if not self.used_parameters:
            return queryset
        # The changelist applies its filters one by one on one request: each adds its
        # condition here, so the last one applied asks for a line meeting all of them.
        conditions = request.__dict__.setdefault("_line_filter_conditions", {})
        for key, values in self.used_parameters.items():
            conditions[key.removeprefix("lines__")] = values
        try:
            lines = ServiceLine.objects.filter(
                build_q_object_from_lookup_parameters(conditions), facility=OuterRef("pk")
            )
            return queryset.filter(Exists(lines))
        except (ValueError, ValidationError) as error:
            raise IncorrectLookupParameters(error) from error


class FacilityForm(CurationForm):
    class Meta:
        model = Facility
        fields = "__all__"


LAST_LINE_MESSAGE = (
    "A listing offers at least one program: it keeps at least one service line. "
    "To change what it is, edit the line instead of removing it."
)


def duplicate_kind_message(kind):
    label = ServiceLine.Kind(kind).label.lower()
    return (
        f"This listing already has a {label} line: each kind of program is listed once. "
        "Edit that line instead."
    )


class ServiceLineForm(CurationForm):
    class Meta:
        model = ServiceLine
        fields = "__all__"

    def has_changed(self):
        # The line a new listing must have (ServiceLineFormSet) is saved as shown,
        # even if the curator left it as it came.
        return getattr(self, "required_line", False) or super().has_changed()

    def clean(self):
        cleaned = super().clean()
        kind = cleaned.get("kind")
        if kind and self.instance.facility_id is not None:
            # The database refuses a second line of a kind (line_one_of_each_kind); say so
            # on the form instead. Django's own check skips it where the listing is not a
            # form field (a line's own page).
            others = ServiceLine.objects.filter(facility_id=self.instance.facility_id, kind=kind)
            if self.instance.pk is not None:
                others = others.exclude(pk=self.instance.pk)
            if others.exists():
                self.add_error("kind", duplicate_kind_message(kind))
        return cleaned


class ServiceLineFormSet(BaseInlineFormSet):
    """A listing's lines: at least one, one of each kind, no stale line removed."""

    def _construct_form(self, i, **kwargs):
        form = super()._construct_form(i, **kwargs)
        form.required_line = self.initial_form_count() <= i < self.min_num
        form.edited_on = self.instance  # a conflict says: reload the listing (locking.py)
        return form

    def clean(self):
        kept = []
        for form in self.forms:
            if self.can_delete and self._should_delete_form(form):
                if form.instance.pk is not None and form.non_field_errors():
                    # Removing a line someone changed meanwhile is refused like an edit
                    # (Django skips the errors of forms marked for deletion).
                    raise ValidationError(form.non_field_errors())
                continue
            if form in self.extra_forms and not form.has_changed():
                continue  # an empty "add another" form saves nothing
            if form in self.initial_forms and form.instance.pk is None:
                continue  # no line of this listing (a tampered form): Django skips it
            kept.append(form)
        if not kept:
            raise ValidationError(LAST_LINE_MESSAGE, code="last_line")
        seen = set()
        for form in kept:
            kind = getattr(form, "cleaned_data", {}).get("kind")
            if kind is not None and kind in seen:
                form.add_error("kind", duplicate_kind_message(kind))
            seen.add(kind)
        # Django's own checks last: they skip forms found wrong above.
        super().clean()


def storable_id(model, value, using):
    """Whether `value` can be a primary key of `model`: a whole number the database holds
    (one out of range makes the database fail on the query: a server error)."""
    pk = model._meta.pk
    try:
        number = int(value)
    except (TypeError, ValueError):
        return False
    low, high = connections[using].ops.integer_field_range(pk.get_internal_type())
    return low <= number <= high


class TermAutocomplete(AutocompleteSelectMultiple):
    """The admin's autocomplete, which shows a refused form again when a term id sent is not
    one (a hand-made request) instead of failing on it (a server error)."""

    def optgroups(self, name, value, attr=None):
        model = self.field.remote_field.model
        valid = [item for item in value if storable_id(model, item, self.db or "default")]
        return super().optgroups(name, valid, attr)


class TermChoiceField(forms.ModelMultipleChoiceField):
    """A vocabulary field that refuses a term id too large for the database as a form error
    (Django's own asks the database, which fails on it: a server error)."""

    def _check_values(self, value):
        model, using = self.queryset.model, self.queryset.db
        for item in value if isinstance(value, list | tuple) else []:
            if isinstance(item, str | int) and not storable_id(model, item, using):
                raise ValidationError(
                    self.error_messages["invalid_pk_value"],
                    code="invalid_pk_value",
                    params={"pk": item},
                )
        return super()._check_values(value)


class TermFields:
    """For admins of a model with vocabulary fields shown as autocompletes."""

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        kwargs.setdefault("form_class", TermChoiceField)
        if db_field.name in self.get_autocomplete_fields(request):
            kwargs.setdefault(
                "widget", TermAutocomplete(db_field, self.admin_site, using=kwargs.get("using"))
            )
        return super().formfield_for_manytomany(db_field, request, **kwargs)


# A line's form: its kind, its terms by theme, its IOP schedule.
SERVICE_LINE_FIELDSETS = [
    (None, {"fields": ["kind", "levels_of_care", "seen_version"]}),
    (
        "IOP schedule (when this line offers IOP)",
        {
            "fields": [
                ("hours_per_week_min", "hours_per_week_max"),
                ("sessions_per_week", "session_length_minutes"),
                "duration_weeks",
                ("offers_daytime", "offers_evening", "offers_weekend"),
                "offers_virtual",
                "transportation_assistance",
            ]
        },
    ),
    ("Payment", {"fields": ["payment_options", "payment_assistance"]}),
    (
        "Populations, ages, genders and languages",
        {"fields": ["populations", "age_groups", "genders", "languages"]},
    ),
    (
        "Treatment",
        {"fields": ["medications", "approaches", "therapies", "conditions", "services"]},
    ),
    ("Licensing and accreditation", {"fields": ["accreditations"]}),
]


# The fields of a line an import may write, and so a curator's edit protects. (The kind
# names the line: imports match lines by it and never change it.)
LINE_CURATABLE = {*TERM_FIELDS, *SCHEDULE_FIELDS}


def line_edits_are_curated(request, line_forms):
    """A curator's edits of service lines: remembered (imports leave them) and attributed.

    A line the curator adds counts too: what they typed in it is theirs.
    """
    for line_form in line_forms:
        line = line_form.instance
        line._history_user = request.user
        changed = [name for name in line_form.changed_data if name in LINE_CURATABLE]
        if changed:
            add_curated(line, changed)


def prepare_revert(obj, record, form, kept):
    """A revert is a curator's edit of whatever it changes from the record as it is now.

    `kept` fields stay as they are now (the address, the import bookkeeping, the listing
    a line belongs to).
    """
    model = type(obj)
    current = model._default_manager.get(pk=obj.pk)
    for name in kept:
        setattr(obj, name, getattr(current, name))
    changed = []
    for name in form.fields:
        if name == "seen_version":
            continue
        field = model._meta.get_field(name)
        if field.many_to_many:
            before = set(getattr(current, name).values_list("pk", flat=True))
            after = {term.pk for term in form.cleaned_data.get(name, [])}
        else:
            before, after = getattr(current, field.attname), getattr(obj, field.attname)
        if before != after:
            changed.append(name)
    obj.curated_fields = current.curated_fields
    add_curated(obj, [name for name in changed if name != "kind"])
    when = timezone.localtime(record.history_date)
    obj._change_reason = f"Reverted to the version of {when:%Y-%m-%d %H:%M}"


def line_title(line):
    """A line named with its listing: "Hope Recovery: Substance use treatment"."""
    return f"{line.facility}: {line}"


def lines_change_reason(formsets):
    """What a save did to the lines, for the listing's history entry ("" if nothing).

    Service lines: substance use treatment edited; mental health treatment added
    """
    parts = []
    for formset in formsets:
        if formset.model is not ServiceLine:
            continue
        for line_form in formset.forms:
            if formset.can_delete and formset._should_delete_form(line_form):
                if line_form.instance.pk is not None:
                    parts.append(f"{line_form.instance.get_kind_display().lower()} removed")
            elif line_form.has_changed():
                verb = "edited" if line_form.instance.pk is not None else "added"
                parts.append(f"{line_form.instance.get_kind_display().lower()} {verb}")
    return f"Service lines: {'; '.join(parts)}" if parts else ""


class ServiceLineInline(TermFields, admin.StackedInline):
    """A listing's programs (substance use, mental health), each with its own care,
    payment and populations, edited on the listing's page."""

    model = ServiceLine
    form = ServiceLineForm
    formset = ServiceLineFormSet
    fieldsets = SERVICE_LINE_FIELDSETS
    autocomplete_fields = TERM_FIELDS
    extra = 0
    min_num = 1  # a listing offers at least one program
    max_num = len(ServiceLine.Kind.choices)
    show_change_link = True  # its own page has its history
    verbose_name = "service line (program)"
    verbose_name_plural = "service lines: what each program offers"

    def get_queryset(self, request):
        # Each line's form reads its 13 vocabularies: one query each for all lines.
        return super().get_queryset(request).prefetch_related(*TERM_FIELDS)


@admin.register(ServiceLine)
class ServiceLineAdmin(TermFields, HistoryAdmin):
    """One line's own page: its history and revert (lines are edited on their listing)."""

    form = ServiceLineForm
    fieldsets = [(None, {"fields": ["facility"]}), *SERVICE_LINE_FIELDSETS]
    readonly_fields = ["facility"]
    autocomplete_fields = TERM_FIELDS
    list_display = ["facility", "kind"]
    list_select_related = ["facility"]
    search_fields = ["facility__name"]

    def has_module_permission(self, request):
        return False  # reached from a listing, not the admin index

    def has_add_permission(self, request):
        return False  # lines are added on their listing's page

    # No bulk delete: a listing keeps at least one line (see delete_view).
    actions = None

    def delete_view(self, request, object_id, extra_context=None):
        # Deleting a listing deletes its lines too (the permission is checked on them);
        # one line alone may go only if the listing keeps another.
        obj = self.get_object(request, unquote(object_id))
        if obj is not None and not self.has_delete_permission(request, obj):
            raise PermissionDenied
        if obj is not None and not obj.facility.lines.exclude(pk=obj.pk).exists():
            self.message_user(request, LAST_LINE_MESSAGE, messages.ERROR)
            return redirect(reverse("admin:facilities_serviceline_change", args=[obj.pk]))
        return super().delete_view(request, object_id, extra_context)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("facility")

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, unquote(object_id))
        if obj is not None:
            extra_context = {"subtitle": line_title(obj), **(extra_context or {})}
        return super().change_view(request, object_id, form_url, extra_context)

    def history_view_title(self, request, obj):
        return f"Change history: {line_title(obj)}"

    def history_form_view_title(self, request, obj):
        verb = "View" if self.revert_disabled(request, obj) else "Revert"
        return f"{verb} {line_title(obj)}"

    def save_model(self, request, obj, form, change):
        record = to_historic(obj)
        if record is not None:
            prepare_revert(obj, record, form, kept=["facility"])
        else:
            line_edits_are_curated(request, [form])
        super().save_model(request, obj, form, change)


@admin.register(Facility)
# FindTreatmentImportMixin comes first: it adds the import page (Facilities -> Import).
class FacilityAdmin(FindTreatmentImportMixin, HistoryAdmin):
    form = FacilityForm

    class Media:
        css = {"all": ["css/admin.css"]}

    list_display = [
        "name",
        "program_name",
        "city",
        "state",
        "ownership",
        "status",
        "last_verified",
        "fictional",
    ]
    list_select_related = ["ownership"]
    list_filter = [
        "status",
        VerificationFilter,
        ("state", admin.AllValuesFieldListFilter),  # only states that have listings
        "ownership",
        # A service line's vocabularies: one line must meet them all (LineTermFilter).
        ("lines__levels_of_care", LineTermFilter),
        ("lines__payment_options", LineTermFilter),
        ("lines__populations", LineTermFilter),
        "co_occurring",
        "source",
    ]
    search_fields = ["name", "program_name", "city", "^zip"]
    list_per_page = 50
    # A line's 13 vocabularies are autocompletes (ServiceLineInline): opening one lists all
    # of its terms (the autocomplete view applies each field's limit_choices_to).
    inlines = [ServiceLineInline]
    actions = ["publish", "archive", "mark_verified_today"]
    save_on_top = True
    # Websites typed without a scheme are https today (Django 6's default too).
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    fieldsets = [
        (
            "Identity and contact",
            {
                "fields": [
                    "name",
                    "program_name",
                    "slug",
                    ("phone", "intake_phone", "hotline"),
                    "website",
                    "email",
                    "description",
                ]
            },
        ),
        (
            "Location",
            {
                "fields": [
                    "street1",
                    "street2",
                    ("city", "state", "zip"),
                    "county",
                    ("latitude", "longitude"),
                    "location_approximate",
                ]
            },
        ),
        ("Who runs it and co-occurring care", {"fields": ["ownership", "co_occurring"]}),
        (
            "Curation",
            {
                "fields": [
                    "status",
                    ("verified_at", "verified_by"),
                    ("source", "source_key"),
                    "curated_fields_display",
                    "open_reports",
                    ("created_at", "updated_at"),
                    "seen_version",  # hidden: the save is checked against it (locking.py)
                ]
            },
        ),
        ("Raw source record", {"classes": ["collapse"], "fields": ["source_record_display"]}),
    ]
    readonly_fields = [
        "verified_by",
        "source",
        "source_key",
        "curated_fields_display",
        "open_reports",
        "created_at",
        "updated_at",
        "source_record_display",
        "demo_notice",
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("ownership", "verified_by")

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is not None and obj.is_fictional:
            fieldsets = [("Demo data", {"fields": ["demo_notice"]}), *fieldsets]
        return fieldsets

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            readonly.append("slug")  # the page address stays stable once published
        return readonly

    def has_delete_permission(self, request, obj=None):
        # Listings are archived, not deleted: deleting loses the audit trail.
        return request.user.is_active and request.user.is_superuser

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if request.method == "GET":
            obj = self.get_object(request, unquote(object_id))
            if obj is not None and obj.is_fictional:
                self.message_user(request, FICTIONAL_WARNING, messages.WARNING)
        return super().change_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        record = to_historic(obj)
        if record is not None:
            self._prepare_revert(obj, record, form)
        else:
            model_fields = {field.name for field in Facility._meta.get_fields()}
            changed = [name for name in form.changed_data if name in model_fields]
            if "verified_at" in changed:
                obj.verified_by = request.user if obj.verified_at else None
                changed.append("verified_by")
            moved = {"latitude", "longitude"} & set(changed)
            if moved and "location_approximate" not in changed:
                # A curator placing the building corrects the ZIP-centre estimate.
                obj.location_approximate = False
                changed.append("location_approximate")
            add_curated(obj, changed)
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        reason = lines_change_reason(formsets)
        if reason and not getattr(form.instance, "_change_reason", None):
            # The listing's entry says which lines changed; each line's own history
            # (its page, from the inline) has what changed in it.
            form.instance._change_reason = reason
        super().save_related(request, form, formsets, change)

    def save_formset(self, request, form, formset, change):
        if formset.model is ServiceLine:
            line_edits_are_curated(request, formset.forms)
        super().save_formset(request, form, formset, change)

    # Kept as they are now when reverting: the address and the import bookkeeping.
    KEPT_ON_REVERT = ["slug", "source", "source_key", "created_at"]

    def _prepare_revert(self, obj, record, form):
        prepare_revert(obj, record, form, kept=self.KEPT_ON_REVERT)

    # Columns and read-only displays

    @admin.display(description="last verified", ordering="verified_at")
    def last_verified(self, obj):
        if obj.verified_at is None:
            return "never"
        if obj.verified_at < stale_before():
            return f"{obj.verified_at:%Y-%m-%d} (stale)"
        return f"{obj.verified_at:%Y-%m-%d}"

    @admin.display(description="fictional", ordering="source")
    def fictional(self, obj):
        return "Demo (fictional)" if obj.is_fictional else ""

    @admin.display(description="notice")
    def demo_notice(self, obj):
        return format_html("<strong>{}</strong>", FICTIONAL_WARNING)

    @admin.display(description="fields a curator edited (imports leave these alone)")
    def curated_fields_display(self, obj):
        return ", ".join(obj.curated_fields or []) or "none"

    @admin.display(description="problem reports")
    def open_reports(self, obj):
        if obj.pk is None:
            return "none"
        counts = obj.reports.aggregate(
            total=Count("pk"), open=Count("pk", filter=Q(status=ProblemReport.Status.NEW))
        )
        if not counts["total"]:
            return "none"
        url = reverse("admin:facilities_problemreport_changelist")
        return format_html(
            '<a href="{}?facility__id__exact={}">{} open, {} in all</a>',
            url,
            obj.pk,
            counts["open"],
            counts["total"],
        )

    @admin.display(description="raw source record")
    def source_record_display(self, obj):
        if not obj.source_record:
            return "none"
        # format_html escapes: the record is third-party data.
        text = json.dumps(obj.source_record, indent=2, ensure_ascii=False, sort_keys=True)
        return format_html('<pre class="source-record">{}</pre>', text)

    # Bulk actions: each touches only rows it changes and reports how many.

    def _set_status(self, request, queryset, status, verb):
        with transaction.atomic(using=router.db_for_write(Facility)):
            rows = list(locked_rows(queryset).exclude(status=status))
            for obj in rows:
                obj.status = status
                add_curated(obj, ["status"])
            save_in_bulk(rows, ["status", "curated_fields"], request.user, f"Bulk action: {verb}")
        unchanged = queryset.count() - len(rows)
        message = f"{plural(len(rows), 'listing was', 'listings were')} {verb}."
        if unchanged:
            message += f" {plural(unchanged, 'was', 'were')} already {verb}."
        self.message_user(request, message, messages.SUCCESS)

    @admin.action(description="Publish selected listings", permissions=["change"])
    def publish(self, request, queryset):
        self._set_status(request, queryset, Facility.Status.PUBLISHED, "published")

    @admin.action(description="Archive selected listings (hide them)", permissions=["change"])
    def archive(self, request, queryset):
        self._set_status(request, queryset, Facility.Status.ARCHIVED, "archived")

    @admin.action(description="Mark selected listings verified today", permissions=["change"])
    def mark_verified_today(self, request, queryset):
        today = timezone.localdate()
        with transaction.atomic(using=router.db_for_write(Facility)):
            rows = list(locked_rows(queryset).exclude(verified_at=today, verified_by=request.user))
            for obj in rows:
                obj.verified_at = today
                obj.verified_by = request.user
                add_curated(obj, ["verified_at", "verified_by"])
            save_in_bulk(
                rows,
                ["verified_at", "verified_by", "curated_fields"],
                request.user,
                "Bulk action: marked verified today",
            )
        self.message_user(
            request,
            f"{plural(len(rows), 'listing was', 'listings were')} marked verified today.",
            messages.SUCCESS,
        )


class TermForm(CurationForm):
    class Meta:
        model = Term
        fields = ["group", "code", "label", "description", "parent", "sort_order"]

    def clean(self):
        cleaned = super().clean()
        group = cleaned.get("group") or (self.instance.group if self.instance.pk else None)
        parent = cleaned.get("parent")
        if parent is not None and group and parent.group != group:
            raise ValidationError({"parent": "The parent must be in the same vocabulary."})
        if parent is not None and self.instance.pk and parent.pk == self.instance.pk:
            raise ValidationError({"parent": "A term cannot be its own parent."})
        return cleaned


@admin.register(Term)
class TermAdmin(HistoryAdmin):
    form = TermForm
    list_display = ["label", "group", "code", "parent", "sort_order"]
    list_display_links = ["label"]
    list_filter = ["group"]
    list_select_related = ["parent"]
    search_fields = ["code", "label"]
    ordering = ["group", "sort_order", "label"]

    def get_readonly_fields(self, request, obj=None):
        if obj is not None:
            # Codes are public (URLs, the API): they never change once a term exists,
            # and moving a term to another vocabulary would mislabel every listing using it.
            return ["group", "code"]
        return []

    def has_delete_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser


@admin.register(ProblemReport)
class ProblemReportAdmin(admin.ModelAdmin):
    list_display = ["created_at", "facility_link", "category", "status", "message_preview"]
    list_select_related = ["facility"]
    list_filter = ["status", "category"]
    search_fields = ["facility__name", "facility__city", "message"]
    date_hierarchy = "created_at"
    actions = ["mark_resolved", "dismiss"]
    fields = [
        "facility",
        "category",
        "message",
        "contact",
        "created_at",
        "status",
        "curator_note",
        ("resolved_at", "resolved_by"),
    ]
    # What the public wrote is shown (escaped by the admin), never edited.
    readonly_fields = [
        "facility",
        "category",
        "message",
        "contact",
        "created_at",
        "resolved_at",
        "resolved_by",
    ]

    def has_add_permission(self, request):
        return False  # reports come from the public "report a problem" form

    def has_delete_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    @admin.display(description="facility", ordering="facility__name")
    def facility_link(self, obj):
        url = reverse("admin:facilities_facility_change", args=[obj.facility_id])
        return format_html('<a href="{}">{}</a>', url, str(obj.facility))

    @admin.display(description="message")
    def message_preview(self, obj):
        text = " ".join(obj.message.split())
        return text if len(text) <= 80 else f"{text[:79]}…"

    def save_model(self, request, obj, form, change):
        if "status" in form.changed_data:
            self._mark(obj, obj.status, request.user)
        super().save_model(request, obj, form, change)

    @staticmethod
    def _mark(obj, status, user):
        obj.status = status
        if status == ProblemReport.Status.NEW:
            obj.resolved_at, obj.resolved_by = None, None
        else:
            obj.resolved_at, obj.resolved_by = timezone.now(), user

    def _close(self, request, queryset, status, verb):
        count = queryset.exclude(status=status).update(
            status=status, resolved_at=timezone.now(), resolved_by=request.user
        )
        self.message_user(request, f"{plural(count, 'report was', 'reports were')} {verb}.")

    @admin.action(description="Mark selected reports resolved", permissions=["change"])
    def mark_resolved(self, request, queryset):
        self._close(request, queryset, ProblemReport.Status.RESOLVED, "marked resolved")

    @admin.action(description="Dismiss selected reports", permissions=["change"])
    def dismiss(self, request, queryset):
        self._close(request, queryset, ProblemReport.Status.DISMISSED, "dismissed")
