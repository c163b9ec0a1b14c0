"""The one way in for JSON from outside, and the size cap of every JSON model field.

``decode`` is used for every request body (through ``parsers.BoundedJSONParser``), every JSON form
field and every JSON query parameter. It:

- refuses more than ``max_bytes`` before parsing anything;
- parses with orjson, which has no recursion (a ``RecursionError`` cannot happen) and refuses
  invalid UTF-8, lone surrogates, ``NaN``/``Infinity`` and numbers that overflow a double;
- then walks the value iteratively and refuses nesting deeper than ``max_depth`` and a NUL
  character in any key or string (PostgreSQL can store neither in ``text`` nor in ``jsonb``).

Every refusal is a ``JSONInputError`` that names where the problem is (``requiredFields.fields.given_name.label``),
so the API can answer 400 naming the field.
"""

from __future__ import annotations

from typing import Any

import orjson
from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible

DEFAULT_MAX_DEPTH = 64
DEFAULT_MAX_BYTES = 256 * 1024


class JSONInputError(ValueError):
    """Outside JSON that we refuse. ``field`` is the top-level key (or the caller's field name), ``path`` the
    full location of the offending value; ``status`` is 413 for a body over the size limit, else 400."""

    def __init__(self, message: str, *, field: str | None = None, path: str = "", status: int = 400):
        super().__init__(message)
        self.message = message
        self.field = field
        self.path = path
        self.status = status


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else str(key)


def check_value(value: Any, *, max_depth: int = DEFAULT_MAX_DEPTH, field: str | None = None) -> None:
    """Refuse a decoded (or about-to-be-stored) value that nests deeper than ``max_depth`` or holds a NUL
    character in a key or a string. Iterative: any depth is safe to check."""
    stack: list[tuple[Any, int, str]] = [(value, 0, field or "")]
    while stack:
        node, depth, path = stack.pop()
        if isinstance(node, str):
            if "\x00" in node:
                raise JSONInputError(
                    f"{path or 'The value'}: a NUL character (\\u0000) is not allowed.",
                    field=_top(path, field), path=path,
                )
            continue
        if isinstance(node, dict):
            items: Any = node.items()
        elif isinstance(node, list | tuple):
            items = enumerate(node)
        else:
            continue
        if depth >= max_depth:
            raise JSONInputError(
                f"{path or 'The document'}: nested more than {max_depth} levels deep.",
                field=_top(path, field), path=path,
            )
        for key, child in items:
            if isinstance(key, str) and "\x00" in key:
                raise JSONInputError(
                    f"{path or 'The document'}: a key holds a NUL character (\\u0000), which is not allowed.",
                    field=_top(path, field), path=path,
                )
            stack.append((child, depth + 1, _join(path, key)))


def _top(path: str, field: str | None) -> str | None:
    if field:
        return field
    if not path:
        return None
    head = path.split(".", 1)[0]
    return head.split("[", 1)[0] or None


def decode(
    data: bytes | bytearray | memoryview | str,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_depth: int = DEFAULT_MAX_DEPTH,
    field: str | None = None,
) -> Any:
    """Decode outside JSON, bounded. ``field`` names a JSON form field or query parameter in messages."""
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else bytes(data)
    where = f"{field}: " if field else ""
    if len(raw) > max_bytes:
        raise JSONInputError(
            f"{where}the JSON is {len(raw):,} bytes; at most {max_bytes:,} are accepted here.",
            field=field, status=413,
        )
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        message = str(exc)
        if "depth limit" in message or "recursion" in message:
            message = f"nested more than {max_depth} levels deep"
        raise JSONInputError(f"{where}not valid JSON ({message})." if where else f"Not valid JSON ({message}).",
                             field=field) from None
    check_value(value, max_depth=max_depth, field=field)
    return value


def encoded_size(value: Any) -> int:
    """Size of a value as stored (compact JSON, UTF-8)."""
    return len(orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS))


@deconstructible
class JSONBoundsValidator:
    """Model-field validator: the stored JSON is at most ``max_bytes``, ``max_depth`` deep and NUL-free.

    Put it on every ``models.JSONField``: services call ``full_clean()``, so what is stored was checked.
    """

    def __init__(self, max_bytes: int, max_depth: int = DEFAULT_MAX_DEPTH):
        self.max_bytes = max_bytes
        self.max_depth = max_depth

    def __call__(self, value: Any) -> None:
        try:
            check_value(value, max_depth=self.max_depth)
        except JSONInputError as exc:
            raise ValidationError(exc.message, code="invalid_json") from None
        try:
            size = encoded_size(value)
        except (TypeError, orjson.JSONEncodeError):
            raise ValidationError("This value cannot be stored as JSON.", code="invalid_json") from None
        if size > self.max_bytes:
            raise ValidationError(
                f"Too large: {size:,} bytes of JSON; at most {self.max_bytes:,} can be stored.",
                code="json_too_large",
            )

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, JSONBoundsValidator)
            and other.max_bytes == self.max_bytes
            and other.max_depth == self.max_depth
        )

    def __hash__(self) -> int:
        return hash((self.max_bytes, self.max_depth))


def clean_json_fields(instance, *names: str) -> None:
    """Run the validators of ``instance``'s JSON fields (all of them, or ``names``) without the queries of a
    whole ``full_clean()``: for hot paths that build the JSON themselves and must still store only what fits."""
    from django.db.models import JSONField

    errors: dict[str, list[str]] = {}
    for f in instance._meta.concrete_fields:
        if isinstance(f, JSONField) and (not names or f.name in names):
            try:
                f.run_validators(getattr(instance, f.attname))
            except ValidationError as exc:
                errors[f.name] = exc.messages
    if errors:
        raise ValidationError(errors)
