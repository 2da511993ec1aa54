"""Change history of listings and vocabularies (django-simple-history): who, when, what.

Model.save() records history by itself. Two things need help, and live here:
- an admin save writes one entry, after the vocabularies are saved too (left alone,
  simple-history writes one on save(), with the old terms, and one more for every
  vocabulary field that changed);
- bulk writes (admin bulk actions, imports) bypass save(): save_in_bulk() and
  record_history() give them the same version bump and history entry a save would;
- code that saves a listing and then sets its vocabularies (an importer) would get
  one entry for the save and one per vocabulary, each copying all its terms:
  single_history_entry() makes that one entry.
The admin side is HistoryAdmin: the history page with readable diffs, and revert.
"""

import itertools
from contextlib import contextmanager

from django import forms
from django.core.exceptions import PermissionDenied
from django.db import router, transaction
from django.utils import timezone
from simple_history.admin import SimpleHistoryAdmin
from simple_history.models import DeletedObject, ModelChange, ModelDelta, to_historic
from simple_history.template_utils import HistoricalRecordContextHelper
from simple_history.utils import get_m2m_field_name, get_m2m_reverse_field_name


def record_history(objs, user=None, reason="", created=False):
    """Write one historical record per object, with its many-to-many terms as they are now.

    simple-history's bulk_history_create() leaves the many-to-many snapshot empty: the
    history would show every vocabulary as removed, and reverting to it would wipe them.
    """
    objs = list(objs)
    if not objs:
        return []
    model = type(objs[0])
    history = model.history
    records = history.bulk_history_create(
        objs, update=not created, default_user=user, default_change_reason=reason
    )
    record_for = {getattr(record, model._meta.pk.attname): record for record in records}
    for field in history.model._history_m2m_fields:
        m2m_history = getattr(history.model, field.name).model
        through = field.remote_field.through
        owner = through._meta.get_field(get_m2m_field_name(field))
        rows = through.objects.filter(**{f"{owner.attname}__in": list(record_for)})
        m2m_history.objects.bulk_create(
            m2m_history(
                history=record_for[getattr(row, owner.attname)],
                **{f.attname: getattr(row, f.attname) for f in through._meta.fields},
            )
            for row in rows
        )
    return records


def save_in_bulk(objs, fields, user=None, reason=""):
    """bulk_update() that raises each row's version and records history, like save() would.

    Call it in a transaction, on rows read with select_for_update(): the version it
    writes is the one it read plus one.
    """
    objs = list(objs)
    if not objs:
        return
    model = type(objs[0])
    now = timezone.now()
    auto_now = [f.name for f in model._meta.concrete_fields if getattr(f, "auto_now", False)]
    for obj in objs:
        obj.version += 1
        for name in auto_now:
            setattr(obj, name, now)
    model._default_manager.bulk_update(objs, [*fields, *auto_now, "version"])
    record_history(objs, user=user, reason=reason)


def m2m_snapshots(records):
    """{field name: {history_id: frozenset of related pks}} for these historical records.

    One query per many-to-many field, however many records: the history page diffs
    each record against the previous one.
    """
    records = list(records)
    if not records:
        return {}
    snapshots = {}
    for field in records[0]._history_m2m_fields:
        m2m_history = getattr(type(records[0]), field.name).model
        related = f"{get_m2m_reverse_field_name(field)}_id"
        rows = m2m_history.objects.filter(
            history_id__in=[record.history_id for record in records]
        ).values_list("history_id", related)
        by_record = {record.history_id: set() for record in records}
        for history_id, pk in rows:
            by_record[history_id].add(pk)
        snapshots[field.name] = {key: frozenset(pks) for key, pks in by_record.items()}
    return snapshots


@contextmanager
def single_history_entry(obj, user=None, reason=""):
    """Save obj and set its many-to-many fields inside the block: one history entry results.

    with single_history_entry(listing, reason="FindTreatment.gov import"):
        listing.save()
        listing.payment_options.set(terms)
    """
    created = obj._state.adding
    obj.skip_history_when_saving = True
    try:
        yield obj
    finally:
        del obj.skip_history_when_saving
    record_history([obj], user=user, reason=reason, created=created)


class OneHistoryEntryPerSaveForm(forms.ModelForm):
    """An admin save makes one history entry, written once the vocabularies are saved.

    On a revert page (the form built from a historical record) the vocabulary fields
    start from that record's terms, not today's, so reverting restores them too.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        record = to_historic(self.instance)
        if record is not None and not self.is_bound:
            for field in record._history_m2m_fields:
                if field.name in self.fields:
                    term = get_m2m_reverse_field_name(field)
                    rows = getattr(record, field.name).values_list(f"{term}_id", flat=True)
                    self.initial[field.name] = list(rows)

    def save(self, commit=True):
        self._creating = self.instance._state.adding
        self.instance.skip_history_when_saving = True
        return super().save(commit)

    def _save_m2m(self):
        super()._save_m2m()
        if hasattr(self.instance, "skip_history_when_saving"):
            del self.instance.skip_history_when_saving
            # SimpleHistoryAdmin.save_model() set _history_user; a revert sets _change_reason.
            record_history([self.instance], created=self._creating)


# Admin: the history page and revert


class ReadableChanges(HistoricalRecordContextHelper):
    """The history page's "Changes" column says "Published", not "published"."""

    def prepare_delta_change_value(self, change, value):
        field = self.model._meta.get_field(change.field)
        if field.choices and not field.many_to_many:
            return dict(field.flatchoices).get(value, value)
        return super().prepare_delta_change_value(change, value)


class HistoryAdmin(SimpleHistoryAdmin):
    """History (who, when, what changed) on every record, and revert to any version."""

    # Each row diffs 13 vocabularies against the previous row: keep pages short.
    history_list_per_page = 25

    def get_historical_record_context_helper(self, request, historical_record):
        return ReadableChanges(self.model, historical_record)

    def set_history_delta_changes(self, request, historical_records, foreign_keys_are_objs=True):
        """The "Changes" column, with the vocabularies diffed from one query per field.

        simple-history's diff_against() runs two queries per vocabulary per row
        (over 600 for a page of listings).
        """
        records = list(historical_records)
        m2m_fields = {field.name: field for field in self.model.history.model._history_m2m_fields}
        if not m2m_fields or not records:
            return super().set_history_delta_changes(request, records, foreign_keys_are_objs)
        snapshots = m2m_snapshots(records)
        related = {
            model: model._default_manager.in_bulk()
            for model in {field.related_model for field in m2m_fields.values()}
        }

        def rows(field, pks):
            # What simple-history's display expects: one {related name: object} per row.
            objects = related[field.related_model]
            return [
                {
                    get_m2m_reverse_field_name(field): objects.get(
                        pk, DeletedObject(field.related_model, pk)
                    )
                }
                for pk in sorted(pks)
            ]

        plain = [
            field.name
            for field in records[0].tracked_fields
            if field.editable and field.name not in m2m_fields
        ]
        for newer, older in itertools.pairwise(records):
            delta = newer.diff_against(older, included_fields=plain, foreign_keys_are_objs=True)
            changes = list(delta.changes)
            for name, field in m2m_fields.items():
                before, after = snapshots[name][older.history_id], snapshots[name][newer.history_id]
                if before != after:
                    changes.append(ModelChange(name, rows(field, before), rows(field, after)))
            changes.sort(key=lambda change: change.field)
            full = ModelDelta(changes, [change.field for change in changes], older, newer)
            helper = self.get_historical_record_context_helper(request, newer)
            newer.history_delta_changes = helper.context_for_delta_changes(full)

    def delete_model(self, request, obj):
        # The deletion's history entry names who deleted (save_model does so for saves).
        obj._history_user = request.user
        super().delete_model(request, obj)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        # simple-history only hides the Revert button from those who may not revert;
        # the POST itself must be refused too.
        if request.method == "POST" and not self.has_change_history_permission(request):
            raise PermissionDenied
        # A revert is a save: the version check locks the row until it is written.
        with transaction.atomic(using=router.db_for_write(self.model)):
            return super().history_form_view(request, object_id, version_id, extra_context)

    def has_change_history_permission(self, request, obj=None):
        # Reverting changes the record, so it takes the right to change it too.
        return super().has_change_history_permission(request, obj) and self.has_change_permission(
            request, obj
        )
