"""`flowlight.utilities.collections`, the dictionary helpers Prefect 1 code imports (outputs
compared with Prefect 1.4.1's module)."""

from __future__ import annotations

from flowlight.utilities.collections import (
    CompoundKey,
    DotDict,
    as_nested_dict,
    dict_to_flatdict,
    flatdict_to_dict,
    flatten_seq,
    merge_dicts,
)


def test_dotdict_reads_and_writes_keys_as_attributes() -> None:
    d = DotDict({"a": 1}, b={"c": 2})
    d.x = 5
    assert (d.a, d["x"], d.get("missing", 7)) == (1, 5, 7)
    assert repr(d) == "<DotDict: 'a', 'b', 'x'>" and repr(DotDict()) == "<DotDict>"
    copy = d.copy()
    copy.a = 100
    assert d.a == 1 and isinstance(copy, DotDict)
    del d["x"]
    assert "x" not in d and len(d) == 2
    assert d.to_dict() == {"a": 1, "b": {"c": 2}} and type(d.to_dict()["b"]) is dict


def test_nested_helpers() -> None:
    nested = as_nested_dict({"a": {"b": [{"c": 1}]}})
    assert isinstance(nested.a.b[0], DotDict) and nested.a.b[0].c == 1
    merged = merge_dicts({"a": {"b": 1, "c": 2}, "x": 1}, {"a": {"b": 3}, "y": 2})
    assert merged == {"a": {"b": 3, "c": 2}, "x": 1, "y": 2}
    flat = dict_to_flatdict({"a": {"b": 1, "c": {"d": 2}}, "e": 3})
    assert flat == {("a", "b"): 1, ("a", "c", "d"): 2, ("e",): 3}
    assert all(isinstance(k, CompoundKey) for k in flat)
    assert flatdict_to_dict(flat) == {"a": {"b": 1, "c": {"d": 2}}, "e": 3}
    assert list(flatten_seq([1, [2, [3, "ab"]], (4,)])) == [1, 2, 3, "ab", 4]
