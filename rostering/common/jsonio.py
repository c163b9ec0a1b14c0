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

import re
from typing import Any

import orjson
from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible

_OUTER = re.compile(r"[^.\[]+(?:\.[^.\[]+)?")
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
                    f"{_shown(path) or 'The value'}: a NUL character (\\u0000) is not allowed.",
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
                f"{_shown(_outer(path)) or 'The document'}: nested more than {max_depth} levels deep.",
                field=_top(path, field), path=path,
            )
        for key, child in items:
            if isinstance(key, str) and "\x00" in key:
                raise JSONInputError(
                    f"{_shown(path) or 'The document'}: a key holds a NUL character (\\u0000), which is not allowed.",
                    field=_top(path, field), path=path,
                )
            stack.append((child, depth + 1, _join(path, key)))


def _shown(path: str, limit: int = 120) -> str:
    """A path for a message: whole when short, else its start (keys can be long)."""
    return path if len(path) <= limit else path[:limit] + "…"


def _outer(path: str) -> str:
    """Where a too-deep value starts, for the message: its first two keys (``payload.given_name``), not the
    64 levels below them."""
    match = _OUTER.match(path)
    return match.group(0) if match else path


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
            # deeper than orjson's own limit (1,024): find where, to name the field as for any other depth
            path = _too_deep_at(raw, max_depth, field or "")
            raise JSONInputError(
                f"{_shown(_outer(path)) or 'The document'}: nested more than {max_depth} levels deep.",
                field=_top(path, field), path=path,
            ) from None
        raise JSONInputError(f"{where}not valid JSON ({message})." if where else f"Not valid JSON ({message}).",
                             field=field) from None
    check_value(value, max_depth=max_depth, field=field)
    return value


def _too_deep_at(raw: bytes, max_depth: int, root: str) -> str:
    """The path of the first container nested deeper than ``max_depth`` in a document orjson refused for its
    depth. A plain byte scan (strings skipped, keys noted); only run on that error, never on good input."""
    frames: list[list] = []  # [kind, key or index, expecting a key]
    pending_key = ""
    i, n = 0, len(raw)
    while i < n:
        c = raw[i]
        if c == 0x22:  # a string: skip it, keep it when it is an object's key
            j = i + 1
            while j < n and raw[j] != 0x22:
                j += 2 if raw[j] == 0x5C else 1
            if frames and frames[-1][0] == "{" and frames[-1][2]:
                try:
                    pending_key = orjson.loads(raw[i : j + 1])
                except orjson.JSONDecodeError:
                    pending_key = raw[i + 1 : j].decode("utf-8", "replace")
            i = j + 1
            continue
        if c in (0x5B, 0x7B):  # [ {
            if len(frames) >= max_depth:
                break
            frames.append(["[", 0, False] if c == 0x5B else ["{", "", True])
        elif c in (0x5D, 0x7D) and frames:  # ] }
            frames.pop()
        elif c == 0x3A and frames and frames[-1][0] == "{":  # :
            frames[-1][1], frames[-1][2] = pending_key, False
        elif c == 0x2C and frames:  # ,
            if frames[-1][0] == "[":
                frames[-1][1] += 1
            else:
                frames[-1][2] = True
        i += 1
    path = root
    for kind, key, _expecting in frames:
        path = _join(path, key) if kind == "{" else _join(path, int(key))
    return path


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
