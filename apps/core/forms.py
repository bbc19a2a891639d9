"""The Preferences form (the language, the time zone times are shown in, and which MiniCRM
user the person is; a field left out of a submission keeps its value) and the Settings
page's field labels."""

from __future__ import annotations

import unicodedata
from typing import Any

from django import forms
from django.conf import settings
from django.core.validators import ProhibitNullCharactersValidator
from django.utils.translation import gettext_lazy as _

from apps.core.http import parse_id
from apps.core.models import LABEL_MAX_LENGTH
from minicrm.resources.schema import FieldSpec

NO_ONE = ""


class PreferencesForm(forms.Form):
    language = forms.ChoiceField(label=_("Language"), required=False)
    timezone = forms.ChoiceField(
        label=_("Show times in"),
        required=False,
        error_messages={"invalid_choice": _("Choose a time zone from the list.")},
    )
    minicrm_user = forms.CharField(label=_("I am, in MiniCRM"), required=False, max_length=40)

    def __init__(
        self, data: Any = None, *, zones: list[str], users: dict[int, str], **kwargs: Any
    ) -> None:
        super().__init__(data, **kwargs)
        self.users = users
        language = self.fields["language"]
        assert isinstance(language, forms.ChoiceField)
        language.choices = [(code, name) for code, name in settings.LANGUAGES]
        zone = self.fields["timezone"]
        assert isinstance(zone, forms.ChoiceField)
        zone.choices = [(name, name) for name in zones]

    def clean_minicrm_user(self) -> int | None:
        raw = self.cleaned_data.get("minicrm_user") or NO_ONE
        chosen = parse_id(raw)
        if raw != NO_ONE and chosen not in self.users:
            raise forms.ValidationError(_("Choose one of MiniCRM's users from the list."))
        return chosen

    def submitted(self) -> dict[str, Any]:
        """The valid values of the fields the submission carried (the others stay as they
        are: an empty language or time zone is no choice; an empty user is no one)."""
        values = {name: self.cleaned_data[name] for name in self.fields if name in self.data}
        return {
            name: value
            for name, value in values.items()
            if name == "minicrm_user" or value not in (None, "")
        }


def no_control_characters(value: str) -> None:
    if any(unicodedata.category(char) == "Cc" for char in value):
        raise forms.ValidationError(
            _("A label cannot hold control characters (line breaks, tabs, NUL)."),
            code="control_characters",
        )


class FieldLabelsForm(forms.Form):
    """An entity's field labels, two inputs a field (`<name>__en`, `<name>__hu`): blank is the
    default label."""

    entity = forms.CharField(widget=forms.HiddenInput, max_length=32)

    def __init__(
        self,
        data: Any = None,
        *,
        entity: str,
        fields: list[FieldSpec],
        labels: dict[str, tuple[str, str]],
        **kwargs: Any,
    ) -> None:
        initial = {"entity": entity}
        for name, (english, hungarian) in labels.items():
            initial[f"{name}__en"], initial[f"{name}__hu"] = english, hungarian
        super().__init__(data, initial=initial, **kwargs)
        self.entity_key = entity
        self.specs = fields
        for spec in fields:
            for language, title in (("en", _("English label")), ("hu", _("Hungarian label"))):
                label = forms.CharField(label=title, required=False, max_length=LABEL_MAX_LENGTH)
                # One message for a NUL, as for any other control character.
                label.validators = [
                    check
                    for check in label.validators
                    if not isinstance(check, ProhibitNullCharactersValidator)
                ] + [no_control_characters]
                self.fields[f"{spec.name}__{language}"] = label

    def clean_entity(self) -> str:
        if self.cleaned_data["entity"] != self.entity_key:
            raise forms.ValidationError(_("These labels are for another module: nothing saved."))
        return self.entity_key

    def rows(self) -> list[tuple[FieldSpec, forms.BoundField, forms.BoundField]]:
        """Each field with its two inputs, for the table."""
        return [(spec, self[f"{spec.name}__en"], self[f"{spec.name}__hu"]) for spec in self.specs]

    def labels(self) -> dict[str, tuple[str, str]]:
        """{field name: (English, Hungarian)} as submitted (valid forms only)."""
        data = self.cleaned_data
        return {
            spec.name: (data.get(f"{spec.name}__en", ""), data.get(f"{spec.name}__hu", ""))
            for spec in self.specs
        }
