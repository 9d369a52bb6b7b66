"""A faster encoder with exactly the output of :func:`sygesikring_tui.domain.model.to_json`.

The server encodes a whole person state after every write; the generic encoder asks
``is_dataclass`` and ``fields`` at every node. This one caches each dataclass's field names
and dispatches on the exact type, falling back to ``model.to_json`` for anything else. A test
checks that both give the same JSON.
"""

from __future__ import annotations

import dataclasses
from datetime import date
from enum import StrEnum
from collections.abc import Callable
from typing import Any

from ..domain import model

_PLAIN = (str, int, float, bool, type(None))
_ENC_BY_TYPE: dict[type, Callable[[Any], Any]] = {}


def _identity(v: Any) -> Any:
    return v


def _encoder_for(t: type) -> Callable[[Any], Any]:
    """The converter for values of exact type ``t``, built once (same output as ``model.to_json``)."""
    if t in _PLAIN:
        fn: Callable[[Any], Any] = _identity
    elif t is tuple or t is list:
        def fn(v: Any) -> Any:
            return [to_json(x) for x in v]
    elif issubclass(t, StrEnum):
        def fn(v: Any) -> Any:
            return v._value_  # the ``value`` property costs a descriptor call per value
    elif issubclass(t, date):
        def fn(v: Any) -> Any:
            return v.isoformat()
    elif t is dict:
        def fn(v: Any) -> Any:
            return {k: to_json(x) for k, x in v.items()}
    elif dataclasses.is_dataclass(t):
        names = tuple(f.name for f in dataclasses.fields(t))

        def fn(v: Any) -> Any:
            return {n: to_json(getattr(v, n)) for n in names}
    else:
        fn = model.to_json
    _ENC_BY_TYPE[t] = fn
    return fn


def to_json(obj: Any) -> Any:
    fn = _ENC_BY_TYPE.get(type(obj))
    if fn is None:
        fn = _encoder_for(type(obj))
    return fn(obj)


# -- decoding -----------------------------------------------------------------------------
import types as _types  # noqa: E402
import typing as _typing  # noqa: E402

_DEC: dict[Any, Callable[[Any], Any]] = {}


def _decoder(tp: Any) -> Callable[[Any], Any]:
    """A decoder for type ``tp`` with the semantics of ``model._decode``, built once per type."""
    fn = _DEC.get(tp)
    if fn is not None:
        return fn
    origin = _typing.get_origin(tp)
    if origin in (_typing.Union, _types.UnionType):
        args = [a for a in _typing.get_args(tp) if a is not type(None)]
        if len(args) == 1:
            inner = _decoder(args[0])

            def fn(v: Any) -> Any:
                return None if v is None else inner(v)
        else:
            def fn(v: Any) -> Any:
                return v
    elif origin is tuple:
        inner_t = _decoder(_typing.get_args(tp)[0])

        def fn(v: Any) -> Any:
            return None if v is None else tuple([inner_t(x) for x in v])
    elif origin is list:
        inner_l = _decoder(_typing.get_args(tp)[0])

        def fn(v: Any) -> Any:
            return None if v is None else [inner_l(x) for x in v]
    elif origin is dict:
        def fn(v: Any) -> Any:
            return None if v is None else dict(v)
    elif tp is date:
        def fn(v: Any) -> Any:
            return None if v is None else (v if isinstance(v, date) else date.fromisoformat(v))
    elif isinstance(tp, type) and issubclass(tp, StrEnum):
        def fn(v: Any) -> Any:
            return None if v is None else tp(v)
    elif isinstance(tp, type) and dataclasses.is_dataclass(tp):
        items: list[tuple[str, Callable[[Any], Any]]] = []

        def fn(v: Any) -> Any:
            if v is None:
                return None
            kw = {name: dec(v[name]) for name, dec in items if name in v}
            return tp(**kw)

        _DEC[tp] = fn  # before the fields: a type may refer to itself
        hints = _typing.get_type_hints(tp)
        items.extend((f.name, _decoder(hints[f.name])) for f in dataclasses.fields(tp))
        return fn
    elif tp is float:
        def fn(v: Any) -> Any:
            return None if v is None else float(v)
    else:
        def fn(v: Any) -> Any:
            return v
    _DEC[tp] = fn
    return fn


def from_json(cls: type, data: dict[str, Any]) -> Any:
    """Same result as ``model.from_json(cls, data)``."""
    return _decoder(cls)(data)


# -- person documents as stored on the server ---------------------------------------------
# A person is stored as two texts: ``core`` (the state in the domain codec with ``tasks``
# empty, byte for byte what the desk's ``Store.save_person`` stores in ``persons.doc``) and
# ``tasks`` (the JSON list of its tasks). A pull hands both to the desk without decoding,
# and a write re-encodes only the fields that changed (:func:`encode_person`).
import json as _json  # noqa: E402

STATE_FIELDS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(model.PersonState))
_ENC = _json.JSONEncoder(ensure_ascii=False)


def dumps(value: Any) -> str:
    """``json.dumps(value, ensure_ascii=False)`` without building an encoder per call."""
    return _ENC.encode(value)


@dataclasses.dataclass
class Encoded:
    """A person state with its JSON-ready form (``to_json(state)``, field by field).

    The JSON-ready values of a state's unchanged fields are shared with the state it was
    derived from (never mutated), so a write converts only what changed and then encodes
    the whole document in one C-level ``dumps``.
    """

    state: model.PersonState
    raw: dict[str, Any]


def _raw_of(state: model.PersonState, raw: dict[str, Any] | None = None) -> dict[str, Any]:
    if raw is not None and tuple(raw) == STATE_FIELDS:  # complete and in field order
        return raw
    return {n: (raw[n] if raw is not None and n in raw else to_json(getattr(state, n))) for n in STATE_FIELDS}


def encode_person(state: model.PersonState, base: Encoded | None = None) -> Encoded:
    """``state`` with its JSON-ready form, reusing that of ``base`` (a state it was derived
    from) for every field that is the very same object or a tuple that only grew at its end."""
    if base is None:
        return Encoded(state, _raw_of(state))
    old_state, old_raw = base.state, base.raw
    raw: dict[str, Any] = {}
    for name in STATE_FIELDS:
        new = getattr(state, name)
        old = getattr(old_state, name)
        if new is old:
            raw[name] = old_raw[name]
        elif type(new) is tuple and type(old) is tuple and len(new) > len(old) and all(
                a is b for a, b in zip(new, old)):
            raw[name] = old_raw[name] + [to_json(v) for v in new[len(old):]]
        else:
            raw[name] = to_json(new)
    return Encoded(state, raw)


def core_text(enc: Encoded) -> str:
    """The state without tasks, exactly ``json.dumps(to_json(replace(state, tasks=())), ensure_ascii=False)``."""
    return dumps({**enc.raw, "tasks": []})


def tasks_text(enc: Encoded) -> str:
    return dumps(enc.raw["tasks"])


def doc_text(enc: Encoded) -> str:
    """The whole state, exactly ``json.dumps(to_json(state), ensure_ascii=False)``."""
    return dumps(enc.raw)


def decode_person(core: str, tasks: str) -> Encoded:
    """A stored person (core and tasks texts) decoded, its JSON form kept for the next write."""
    raw = _json.loads(core)
    raw["tasks"] = _json.loads(tasks)
    state = from_json(model.PersonState, raw)
    return Encoded(state, _raw_of(state, raw))
