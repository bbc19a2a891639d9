"""The handler form and its actions (one row per action, in order)."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.core.storable import json_storable
from apps.webhooks.models import Action, Handler
from apps.webhooks.services import loop_risk


class HandlerForm(forms.ModelForm):
    fields_text = forms.CharField(
        label=_("Fields"),
        required=False,
        help_text=_("Comma-separated field names; empty: any change."),
    )

    class Meta:
        model = Handler
        fields = ["name", "slug", "enabled", "type", "category_id"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["fields_text"].initial = ", ".join(self.instance.fields or [])

    def clean_fields_text(self) -> list[str]:
        raw = self.cleaned_data.get("fields_text") or ""
        return [name.strip() for name in raw.split(",") if name.strip()]

    def save(self, commit: bool = True) -> Handler:
        self.instance.fields = self.cleaned_data["fields_text"]
        return super().save(commit=commit)


class ActionForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Action"), choices=[("", "—"), *Action.Kind.choices], required=False
    )
    comment = forms.CharField(label=_("To-do comment"), required=False, max_length=2000)
    owner = forms.IntegerField(label=_("To-do owner (user id)"), required=False, min_value=1)
    days = forms.IntegerField(
        label=_("Deadline in days"), required=False, min_value=0, max_value=3650
    )
    values = forms.CharField(
        label=_("Fields to set (JSON)"),
        required=False,
        help_text=_('e.g. {"StatusId": "Ajánlat kiküldve"}'),
    )
    url = forms.URLField(label=_("Forward to"), required=False, assume_scheme="https")
    path = forms.CharField(label=_("Python function (dotted path)"), required=False, max_length=300)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        kind = data.get("kind")
        if kind == Action.Kind.SET_FIELDS:
            try:
                values = json.loads(data.get("values") or "{}")
            except ValueError:
                values = None
            if not isinstance(values, dict) or not values:
                self.add_error("values", _("Give the fields as a JSON object."))
            elif not json_storable(values):
                # JSON's escapes pass the text's checks; the database cannot store the result.
                self.add_error(
                    "values",
                    _("A value holds a character that cannot be stored (NUL or a lone surrogate)."),
                )
                values = None
            data["parsed_values"] = values or {}
        if kind == Action.Kind.FORWARD and not data.get("url"):
            self.add_error("url", _("Give the URL to forward to."))
        if kind == Action.Kind.PYTHON and "." not in (data.get("path") or ""):
            self.add_error("path", _("Give a dotted path like myapp.hooks.on_change."))
        return data

    def as_action(self) -> dict[str, Any] | None:
        data = self.cleaned_data
        kind = data.get("kind")
        if not kind:
            return None
        config: dict[str, Any] = {
            Action.Kind.CREATE_TODO: {
                "comment": data.get("comment"),
                "owner": data.get("owner"),
                "days": data.get("days") or 0,
            },
            Action.Kind.SET_FIELDS: {"values": data.get("parsed_values") or {}},
            Action.Kind.FORWARD: {"url": data.get("url")},
            Action.Kind.PYTHON: {"path": data.get("path")},
        }[kind]
        return {"kind": kind, "config": config}

    @classmethod
    def initial_for(cls, action: Action) -> dict[str, Any]:
        config = action.config or {}
        return {
            "kind": action.kind,
            "comment": config.get("comment"),
            "owner": config.get("owner"),
            "days": config.get("days"),
            "values": json.dumps(config.get("values"), ensure_ascii=False)
            if config.get("values")
            else "",
            "url": config.get("url"),
            "path": config.get("path"),
        }


ActionFormSet = forms.formset_factory(ActionForm, extra=2)


def check_loops(form: HandlerForm, actions: list[dict[str, Any]]) -> bool:
    """Refuse a handler whose own actions write a field its filter watches."""
    risky = loop_risk(handler_fields=form.cleaned_data["fields_text"], actions=actions)
    if risky:
        form.add_error(
            "fields_text",
            _(
                "These actions write %(fields)s, which this handler watches: every change it "
                "makes would come back as a new webhook and run it again, without end. Watch "
                "other fields, or set other fields."
            )
            % {"fields": ", ".join(risky)},
        )
        return False
    return True
