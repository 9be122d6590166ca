"""Values of configuration keys: type checking against a field's annotation and parsing ``key=value``
overrides and the release's integer ranges (``--gpu 0-1``, ``--test_epoch 20-21``).
"""

from __future__ import annotations

import ast
import types
import typing
from typing import Any, Union


class ConfigError(ValueError):
    """A configuration key or value that does not fit; the message names the key, the source and the fix."""


def type_name(hint: Any) -> str:
    return getattr(hint, "__name__", None) or str(hint).replace("typing.", "")


def coerce(value: Any, hint: Any, key: str) -> Any:
    """Check ``value`` against the type ``hint`` (converting lists to tuples and ints to floats); raise otherwise."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for option in (a for a in args if a is not type(None)):
            try:
                return coerce(value, option, key)
            except ConfigError as exc:
                errors.append(str(exc))
        raise ConfigError(f"{key}: {value!r} is not a {type_name(hint)}")
    if hint is Any:
        return value
    if hint is bool:
        if isinstance(value, bool):
            return value
    elif hint is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif hint is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    elif hint is str:
        if isinstance(value, str):
            return value
    elif origin is tuple:
        if isinstance(value, (list, tuple)):
            if len(args) == 2 and args[1] is Ellipsis:
                return tuple(coerce(v, args[0], key) for v in value)
            if len(value) == len(args):
                return tuple(coerce(v, a, key) for v, a in zip(value, args))
    elif origin is list:
        if isinstance(value, (list, tuple)):
            return [coerce(v, args[0], key) for v in value] if args else list(value)
    elif origin is dict:
        if isinstance(value, dict):
            if not args:
                return dict(value)
            return {coerce(k, args[0], key): coerce(v, args[1], key) for k, v in value.items()}
    elif hint is dict:
        if isinstance(value, dict):
            return dict(value)
    else:  # pragma: no cover - a field type this function does not know
        raise ConfigError(f"{key}: unsupported field type {hint}")
    raise ConfigError(f"{key}: expected {type_name(hint)}, got {value!r} ({type(value).__name__})")


def parse_override(text: str) -> tuple[str, Any]:
    """``"train.lr=5e-4"`` -> ("train.lr", 0.0005). The value goes through ``ast.literal_eval``; a value
    that is not a Python literal (``variant=xs``) is kept as a string. ``none``/``null`` mean None and
    ``true``/``false`` (any case) booleans, as in YAML."""
    if "=" not in text:
        raise ConfigError(f"override {text!r}: expected key=value, e.g. train.lr=5e-4")
    key, raw = text.split("=", 1)
    key, raw = key.strip(), raw.strip()
    if not key:
        raise ConfigError(f"override {text!r}: empty key")
    lowered = raw.lower()
    if lowered in ("none", "null", "~"):
        return key, None
    if lowered in ("true", "false"):
        return key, lowered == "true"
    try:
        return key, ast.literal_eval(raw)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return key, raw


def parse_int_range(text: str, what: str = "value") -> list[int]:
    """The release's integer lists (``--gpu 0-1``, ``--test_epoch 20-21``): '3' -> [3]; '0-2' -> [0, 1, 2];
    '0,2' -> [0, 2]; ranges and lists may be mixed ('0-1,4').

    Raises:
        ValueError: not of that form, a range that runs backwards, or nothing at all; the message names ``what``.
    """
    values: list[int] = []
    for part in str(text).split(","):
        part = part.strip()
        if not part:
            continue
        try:
            if "-" in part:
                start, end = (int(p) for p in part.split("-", 1))
                if end < start:
                    raise ValueError
                values.extend(range(start, end + 1))
            else:
                values.append(int(part))
        except ValueError:
            raise ValueError(f"bad {what} {text!r}: expected N, N-M or N,M (e.g. 0-1)") from None
    if not values:
        raise ValueError(f"bad {what} {text!r}: empty")
    return values
