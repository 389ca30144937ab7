"""Validation of data against a pydantic model or a JSON Schema dict.

Both kinds of schema are compiled once, when the app is built, into a
``Schema`` whose ``validate`` returns the accepted value (a model instance for
a pydantic model, the data itself for JSON Schema) or raises
``SchemaValidationError`` listing the field errors: the first ``MAX_ERRORS``, each path and
message cut to ``MAX_TEXT`` characters, so that a huge input never makes a huge error.
"""

from __future__ import annotations

from itertools import islice
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, TypeAdapter
from pydantic import ValidationError as PydanticValidationError

from motia._core.json import loads, may_not_be_finite
from motia.exceptions import FieldError, MalformedJSON, SchemaValidationError

if TYPE_CHECKING:
    from jsonschema.protocols import Validator

__all__ = [
    "MAX_ERRORS",
    "MAX_TEXT",
    "Schema",
    "compile_schema",
    "to_json_schema",
]

MAX_ERRORS = 20
"""Field errors reported for one value; the rest are summed up in one more."""
MAX_TEXT = 200
"""Characters kept of an error's path and of its message."""


class Schema:
    """A compiled schema: ``validate(data)`` returns the accepted value."""

    def __init__(self, source: Any) -> None:
        self.source = source
        self.model = source if _is_model(source) else None
        if self.model is not None:
            self._adapter: TypeAdapter[Any] | None = TypeAdapter(self.model)
            self._json_validator: Validator | None = None
        else:
            self._adapter = None
            self._json_validator = _json_schema_validator(source)

    def validate(self, data: Any) -> Any:
        if self._adapter is not None:
            try:
                return self._adapter.validate_python(data)
            except PydanticValidationError as exc:
                raise SchemaValidationError(_pydantic_errors(exc)) from None
        assert self._json_validator is not None
        found = islice(self._json_validator.iter_errors(data), MAX_ERRORS + 1)
        errors = sorted(found, key=lambda e: list(e.path))
        if errors:
            raise SchemaValidationError(
                _field_errors([(e.absolute_path, e.message) for e in errors], len(errors))
            )
        return data

    def validate_json(self, raw: bytes) -> Any:
        """Parse and validate raw JSON bytes, in one pass unless they may hold a number the
        JSON policy refuses (pydantic models only)."""
        assert self._adapter is not None
        if may_not_be_finite(raw):
            try:
                return self.validate(loads(raw))
            except ValueError as exc:
                if isinstance(exc, SchemaValidationError):
                    raise
                raise MalformedJSON(str(exc)) from None
        try:
            return self._adapter.validator.validate_json(raw)  # without the adapter's wrapper
        except PydanticValidationError as exc:
            invalid = [e for e in exc.errors() if e["type"] == "json_invalid"]
            if invalid:
                raise MalformedJSON(invalid[0]["msg"]) from None
            raise SchemaValidationError(_pydantic_errors(exc)) from None

    def json_schema(self) -> dict[str, Any]:
        return to_json_schema(self.source)


def compile_schema(source: Any) -> Schema:
    """Compile a pydantic model class or a JSON Schema dict; raise TypeError otherwise."""
    if not (_is_model(source) or isinstance(source, dict)):
        raise TypeError(
            f"a schema must be a pydantic model class or a JSON Schema dict, "
            f"got {type(source).__name__}"
        )
    return Schema(source)


def _json_schema_validator(source: dict[str, Any]) -> Validator:
    import jsonschema  # only apps with JSON Schema dicts pay for importing it

    validator_cls = jsonschema.validators.validator_for(source)
    try:
        validator_cls.check_schema(source)
    except jsonschema.SchemaError as exc:
        raise TypeError(f"invalid JSON Schema: {exc.message}") from None
    return validator_cls(source)


def to_json_schema(source: Any) -> dict[str, Any]:
    if _is_model(source):
        schema: dict[str, Any] = source.model_json_schema(by_alias=True)
        return schema
    return dict(source)


def _is_model(source: Any) -> bool:
    return isinstance(source, type) and issubclass(source, BaseModel)


def _pydantic_errors(exc: PydanticValidationError) -> list[FieldError]:
    errors = exc.errors(include_url=False, include_context=False, include_input=False)
    return _field_errors([(e["loc"], e["msg"]) for e in errors], exc.error_count())


def _field_errors(found: list[tuple[Any, str]], total: int) -> list[FieldError]:
    errors = [FieldError(_cut(_dotted(path)), _cut(msg)) for path, msg in found[:MAX_ERRORS]]
    if total > MAX_ERRORS:
        errors.append(FieldError("", f"and more errors (only the first {MAX_ERRORS} are listed)"))
    return errors


def _cut(text: str) -> str:
    return text if len(text) <= MAX_TEXT else f"{text[:MAX_TEXT]}... ({len(text)} characters)"


def _dotted(location: Any) -> str:
    return ".".join(str(part) for part in location)
