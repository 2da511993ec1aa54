"""Driving admin pages from tests the way a browser would."""

from django.forms import CheckboxInput, SelectMultiple


def form_values(form, data):
    """Add what a browser sends for this form's fields, as rendered, to `data`."""
    for name, field in form.fields.items():
        value = form[name].value()
        key = form[name].html_name  # prefixed in an inline: "lines-0-kind"
        widget = getattr(field.widget, "widget", field.widget)  # unwrap the "+" link wrapper
        if isinstance(widget, CheckboxInput):
            if value:
                data[key] = "on"
        elif isinstance(widget, SelectMultiple):
            # A browser sends nothing for an empty multi-select.
            data[key] = [str(item) for item in value or []]
        elif value is None:
            data[key] = ""
        else:
            data[key] = str(value)
    return data


def post_data_from_form(response):
    """What the browser would send back for the change form as it was rendered, inlines too."""
    data = form_values(response.context["adminform"].form, {})
    for inline in response.context.get("inline_admin_formsets", []):
        formset = inline.formset
        for key, value in formset.management_form.initial.items():
            data[f"{formset.prefix}-{key}"] = value
        for form in formset.forms:
            form_values(form, data)
    data["_save"] = "Save"
    return data


def inline_forms(response, prefix="lines"):
    """The inline formset of this prefix on a rendered (or refused) change form."""
    for inline in response.context["inline_admin_formsets"]:
        if inline.formset.prefix == prefix:
            return inline.formset
    raise AssertionError(f"no inline {prefix!r} on the page")
