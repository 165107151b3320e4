"""The base of SignatureForm's parts: which of their fields hold something, and which
must once the signatory chose that way."""

from django import forms


class PartForm(forms.Form):
    def _has_value(self, names) -> bool:
        """Whether one of these fields holds something, as sent or as kept by a search."""
        return any(str(self[name].value() or "").strip() for name in names)

    def _holds_something(self, names) -> bool:
        return self._has_value(names) or any(self[name].errors for name in names)

    def _require(self, cleaned: dict, messages: dict) -> None:
        """The message of each empty field of `messages` that has no error yet."""
        for name, message in messages.items():
            if not cleaned.get(name) and name not in self.errors:
                self.add_error(name, message)
