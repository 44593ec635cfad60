"""Dictionary helpers Prefect 1 code imports from `prefect.utilities.collections`: `DotDict`
(a dict read by attribute), nested merging and flattening."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, MutableMapping
from typing import Any

__all__ = [
    "CompoundKey",
    "DotDict",
    "as_nested_dict",
    "dict_to_flatdict",
    "flatdict_to_dict",
    "flatten_seq",
    "merge_dicts",
]


def flatten_seq(seq: Iterable[Any]) -> Iterator[Any]:
    """The items of nested iterables, depth first (strings and bytes are items, not nested)."""
    for item in seq:
        if isinstance(item, Iterable) and not isinstance(item, (str, bytes)):
            yield from flatten_seq(item)
        else:
            yield item


class DotDict(MutableMapping[str, Any]):
    """A dict whose keys are also attributes: `d.a` is `d["a"]`."""

    def __init__(self, init_dict: MutableMapping[str, Any] | None = None, **kwargs: Any) -> None:
        if init_dict:
            self.update(init_dict)
        self.update(kwargs)

    def __getitem__(self, key: str) -> Any:
        return self.__dict__[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.__dict__[key] = value

    def __setattr__(self, attr: str, value: Any) -> None:
        self[attr] = value

    def __delitem__(self, key: str) -> None:
        del self.__dict__[key]

    def __iter__(self) -> Iterator[str]:
        return iter(list(self.__dict__))

    def __len__(self) -> int:
        return len(self.__dict__)

    def __repr__(self) -> str:
        if not self:
            return f"<{type(self).__name__}>"
        return f"<{type(self).__name__}: {', '.join(sorted(repr(k) for k in self))}>"

    def copy(self) -> DotDict:
        """A shallow copy."""
        return type(self)(self.__dict__.copy())

    def to_dict(self) -> dict[str, Any]:
        """Plain dicts all the way down."""
        converted: dict[str, Any] = as_nested_dict(self, dct_class=dict)
        return converted


def merge_dicts(d1: Any, d2: Any) -> Any:
    """A copy of `d1` updated with `d2`, merging nested mappings key by key."""
    merged = d1.copy()
    for key, value in d2.items():
        if isinstance(merged.get(key), MutableMapping) and isinstance(value, MutableMapping):
            merged[key] = merge_dicts(merged[key], value)
        else:
            merged[key] = value
    return merged


def as_nested_dict(obj: Any, dct_class: type = DotDict) -> Any:
    """`obj` with every dict (and DotDict) inside it, however deep, turned into `dct_class`."""
    if isinstance(obj, (list, tuple, set)):
        return type(obj)(as_nested_dict(item, dct_class) for item in obj)
    if isinstance(obj, (dict, DotDict)):
        items = obj.__dict__ if isinstance(obj, DotDict) else obj
        return dct_class({k: as_nested_dict(v, dct_class) for k, v in items.items()})
    return obj


class CompoundKey(tuple):  # type: ignore[type-arg]
    """The path of a value in a flattened dict: ("a", "b") for d["a"]["b"]."""


def dict_to_flatdict(dct: Any, parent: CompoundKey | None = None) -> dict[Any, Any]:
    """{CompoundKey(path): value} for every leaf of the nested dict `dct`."""
    flat: dict[Any, Any] = {}
    parent = parent or CompoundKey()
    for key, value in dct.items():
        path = CompoundKey((*parent, key))
        if isinstance(value, dict):
            flat.update(dict_to_flatdict(value, parent=path))
        else:
            flat[path] = value
    return flat


def flatdict_to_dict(dct: dict[Any, Any], dct_class: type | None = None) -> Any:
    """The nested dict (of `dct_class`, default dict) that `dict_to_flatdict` flattened."""
    make = dct_class or dict
    result = make()
    for key, value in dct.items():
        if isinstance(key, CompoundKey):
            here = result
            for part in key[:-1]:
                here = here.setdefault(part, make())
            here[key[-1]] = value
        else:
            result[key] = value
    return result
