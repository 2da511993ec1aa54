"""Driving admin pages from tests the way a browser would."""

from django.forms import CheckboxInput, SelectMultiple


def post_data_from_form(response):
    """What the browser would send back for the change form as it was rendered."""
    form = response.context["adminform"].form
    data = {}
    for name, field in form.fields.items():
        value = form[name].value()
        widget = getattr(field.widget, "widget", field.widget)  # unwrap the "+" link wrapper
        if isinstance(widget, CheckboxInput):
            if value:
                data[name] = "on"
        elif isinstance(widget, SelectMultiple):
            # A browser sends nothing for an empty multi-select.
            data[name] = [str(item) for item in value or []]
        elif value is None:
            data[name] = ""
        else:
            data[name] = str(value)
    for inline in response.context.get("inline_admin_formsets", []):
        formset = inline.formset
        for key, value in formset.management_form.initial.items():
            data[f"{formset.prefix}-{key}"] = value
    data["_save"] = "Save"
    return data
