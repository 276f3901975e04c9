"""Test helper: the POST data a browser would send for an admin page as
rendered (main form and every inline formset), to be edited and submitted."""

from django import forms


def _field_data(prefix: str, form, data: dict) -> None:
    for name, field in form.fields.items():
        key = form.add_prefix(name) if not prefix else f"{prefix}-{name}"
        value = form[name].value()
        widget = field.widget
        if isinstance(widget, forms.SplitDateTimeWidget):
            if isinstance(value, list):
                parts = value
            else:
                parts = widget.decompress(value)
            data[f"{key}_0"] = parts[0].strftime("%Y-%m-%d") if hasattr(parts[0], "strftime") else (parts[0] or "")
            data[f"{key}_1"] = parts[1].strftime("%H:%M:%S") if hasattr(parts[1], "strftime") else (parts[1] or "")
        elif isinstance(widget, forms.CheckboxInput):
            if value:
                data[key] = "on"
        elif isinstance(value, list | tuple):
            data[key] = [str(v) for v in value]
        elif value is None:
            data[key] = ""
        else:
            data[key] = str(value)


def admin_form_data(response) -> dict:
    data: dict = {}
    _field_data("", response.context["adminform"].form, data)
    for inline in response.context.get("inline_admin_formsets", []):
        formset = inline.formset
        for name in formset.management_form.fields:
            data[f"{formset.prefix}-{name}"] = str(formset.management_form[name].value())
        for form in formset.forms:
            _field_data(form.prefix, form, data)
    return data


def add_inline_row(data: dict, prefix: str, values: dict) -> dict:
    index = int(data[f"{prefix}-TOTAL_FORMS"])
    data[f"{prefix}-TOTAL_FORMS"] = str(index + 1)
    for name, value in values.items():
        data[f"{prefix}-{index}-{name}"] = str(value)
    return data


def split_datetime(prefix: str, value) -> dict:
    """A date-time as the admin's split widget posts it (``<prefix>_0`` date,
    ``<prefix>_1`` time)."""
    return {f"{prefix}_0": value.strftime("%Y-%m-%d"), f"{prefix}_1": value.strftime("%H:%M:%S")}
