"""The Preferences form: the language, the time zone times are shown in, and which MiniCRM
user the person is. A field left out of a submission keeps its value."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from apps.core.http import parse_id

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
