"""Optimistic locking: a save made from an outdated copy of a record is refused, not applied.

Every save raises the row's version (models.Versioned, and VersionedQuerySet for bulk
writes). The edit page carries the version it was built from in a hidden field; on
save the form locks the row and compares. If anyone else saved in between (another
curator, an import, a bulk action), the curator is told who and when, and pointed
at the history, instead of silently overwriting their work.
"""

from django import forms
from django.core.exceptions import ValidationError
from django.db import router, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html


class SeenVersionField(forms.IntegerField):
    widget = forms.HiddenInput

    def has_changed(self, initial, data):
        # Bookkeeping, not an edit: a bound form has no initial version to compare with,
        # and an inline line counted as changed would be saved (a new version, a history
        # entry) on every save of its listing.
        return False


class VersionCheckedForm(forms.ModelForm):
    # The version this page was built from. (Not named "version": Django forms refuse
    # a field named after a non-editable model field.)
    seen_version = SeenVersionField(required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound and self.instance.pk is not None:
            # The version in the database now: a revert page starts from an old copy
            # of the record, and the save it leads to is based on the current one.
            self.initial["seen_version"] = current_version(self.instance)

    def clean(self):
        cleaned = super().clean()
        instance = self.instance
        if instance.pk is None:
            return cleaned
        current = current_version(instance, lock=True)
        if current is None:
            raise ValidationError(
                "This record was deleted after you opened it; your changes were not saved.",
                code="deleted",
            )
        if cleaned.get("seen_version") != current:
            # An inline's record (a listing's service line) is edited on its parent's
            # page: that is the page to reload.
            reload = getattr(self, "edited_on", None) or instance
            raise ValidationError(conflict_message(instance, current, reload), code="conflict")
        # The save writes current + 1, whatever copy the form started from.
        instance.version = current
        return cleaned


def current_version(instance, lock=False):
    model = type(instance)
    rows = model._default_manager.filter(pk=instance.pk)
    using = router.db_for_write(model)
    if lock and transaction.get_connection(using).in_atomic_block:
        # Held until the admin's transaction commits, so nobody saves between
        # this check and the write.
        rows = rows.select_for_update()
    return rows.values_list("version", flat=True).first()


def conflict_message(instance, current, reload=None):
    """Who changed `instance` and when; links to its history and to the page to reload
    (`reload`'s, by default the instance's own)."""
    opts = instance._meta
    reload = reload or instance
    history_url = reverse(f"admin:{opts.app_label}_{opts.model_name}_history", args=[instance.pk])
    change_url = reverse(
        f"admin:{reload._meta.app_label}_{reload._meta.model_name}_change", args=[reload.pk]
    )
    latest = instance.history.order_by("-history_date", "-history_id").first()
    if latest is not None and latest.version == current:
        who = "an import or a script"
        if latest.history_user is not None:
            who = latest.history_user.get_full_name() or latest.history_user.get_username()
        when = date_format(timezone.localtime(latest.history_date), "DATETIME_FORMAT")
        changed = format_html("{} saved this {} on {}", who, opts.verbose_name, when)
    else:
        # A bulk write that left no history entry.
        changed = format_html("This {} was changed by a bulk update", opts.verbose_name)
    return format_html(
        "{}, after you opened it. Your changes have NOT been saved, so theirs are not "
        'overwritten. <a href="{}" target="_blank">See what changed</a> (the history, in a '
        'new tab), then <a href="{}">reload the {}</a> and make your edit again.',
        changed,
        history_url,
        change_url,
        reload._meta.verbose_name,
    )
