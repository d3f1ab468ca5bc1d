"""Form definitions as data: ``forms/<form_id>/form.yaml`` + the blank template."""

from forms.loader import FormDefinitionError, form_ids, load_form, load_forms
from forms.schema import FieldSpec, FormSpec, Kind

__all__ = [
    "FieldSpec",
    "FormDefinitionError",
    "FormSpec",
    "Kind",
    "form_ids",
    "load_form",
    "load_forms",
]
