"""Order forms: the new order (customer, currency, buyer), item rows, the subject."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.core.http import IdField
from apps.core.once import once_field
from apps.core.schema_forms import ContactPicker
from apps.orders.services import CURRENCIES, VAT_RATES

ITEM_FIELDS = ("Name", "SKU", "PriceNet", "Quantity", "Unit", "VAT")
BUYER_FIELDS = ("Name", "PostalCode", "City", "Address", "VatNumber")


class OrderForm(forms.Form):
    customer = IdField(label=_("Customer (contact id)"), widget=ContactPicker())
    currency = forms.ChoiceField(
        label=_("Currency"),
        choices=[(c, c) for c in CURRENCIES],
        help_text=_("Chosen once: MiniCRM does not let it change."),
    )
    subject = forms.CharField(label=_("Subject"), required=False, max_length=1024)
    buyer_Name = forms.CharField(label=_("Buyer name"), required=False, max_length=300)
    buyer_PostalCode = forms.CharField(label=_("Postal code"), required=False, max_length=20)
    buyer_City = forms.CharField(label=_("City"), required=False, max_length=100)
    buyer_Address = forms.CharField(label=_("Address"), required=False, max_length=300)
    buyer_VatNumber = forms.CharField(label=_("VAT number"), required=False, max_length=50)
    once = once_field()  # Back and Save again makes no second order

    def buyer(self) -> dict[str, str]:
        return {
            name: self.cleaned_data[f"buyer_{name}"]
            for name in BUYER_FIELDS
            if self.cleaned_data.get(f"buyer_{name}")
        }


class SubjectForm(forms.Form):
    subject = forms.CharField(label=_("Subject"), required=False, max_length=1024)


def item_rows(data: Any) -> list[dict[str, str]]:
    """The item rows a form posted (`item-Name`, `item-SKU`, ... repeated), blank rows left out."""
    columns = {name: data.getlist(f"item-{name}") for name in ITEM_FIELDS}
    count = max((len(values) for values in columns.values()), default=0)
    rows = []
    for index in range(count):
        row = {
            name: (columns[name][index] if index < len(columns[name]) else "").strip()
            for name in ITEM_FIELDS
        }
        if any(row[name] for name in ("Name", "SKU", "PriceNet")):
            rows.append(row)
    return rows


def blank_row() -> dict[str, str]:
    return {"Name": "", "SKU": "", "PriceNet": "", "Quantity": "1", "Unit": "db", "VAT": "27"}


def row_errors(errors: dict[str, str]) -> dict[int, dict[str, str]]:
    """SchemaValidationError keys `Items.<n>.<field>` as {row: {field: message}}."""
    by_row: dict[int, dict[str, str]] = {}
    for key, message in errors.items():
        parts = key.split(".")
        if len(parts) == 3 and parts[0] == "Items" and parts[1].isdigit():
            by_row.setdefault(int(parts[1]), {})[parts[2]] = message
    return by_row


VAT_CHOICES = VAT_RATES
