"""Serializers: how a `Result` turns a value into bytes and back (Prefect 1's interface).

A serializer is configuration (which format, which options); equal serializers are ones that
would write the same bytes, so two results with the same settings compare equal.
"""

from __future__ import annotations

import base64
import importlib
import io
import json
import pickle
from collections.abc import Callable
from typing import Any

__all__ = [
    "CompressedSerializer",
    "DateTimeSerializer",
    "JSONSerializer",
    "PandasSerializer",
    "PickleSerializer",
    "Serializer",
]

_COMPRESSION_MODULES = ("bz2", "gzip", "lzma", "zlib")


class Serializer:
    """The interface: `serialize(value) -> bytes` and `deserialize(bytes) -> value`."""

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other)

    __hash__ = object.__hash__

    def serialize(self, value: Any) -> bytes:
        """Bytes that `deserialize` turns back into `value`."""
        raise NotImplementedError(
            f"{type(self).__name__} does not implement serialize(); a Serializer subclass "
            "implements serialize(value) -> bytes and deserialize(bytes) -> value."
        )

    def deserialize(self, value: bytes) -> Any:
        """The value that `serialize` turned into `value`."""
        raise NotImplementedError(
            f"{type(self).__name__} does not implement deserialize(); a Serializer subclass "
            "implements serialize(value) -> bytes and deserialize(bytes) -> value."
        )


def _pickler() -> Any:
    """cloudpickle when installed (it pickles lambdas and local classes, as Prefect 1 did),
    else the standard library's pickle, which reads what cloudpickle writes."""
    try:
        import cloudpickle  # type: ignore[import-untyped]
    except ImportError:
        return pickle
    return cloudpickle


class PickleSerializer(Serializer):
    """Any picklable Python object (cloudpickle when installed)."""

    def serialize(self, value: Any) -> bytes:
        data: bytes = _pickler().dumps(value)
        return data

    def deserialize(self, value: bytes) -> Any:
        try:
            return pickle.loads(value)
        except Exception as exc:
            # Prefect 1 results stored pickles base64-encoded; read those too
            try:
                return pickle.loads(base64.b64decode(value))
            except Exception:
                raise exc from None


class JSONSerializer(Serializer):
    """JSON-serializable values (dicts, lists, strings, numbers, booleans, None)."""

    def serialize(self, value: Any) -> bytes:
        return json.dumps(value).encode()

    def deserialize(self, value: bytes) -> Any:
        return json.loads(value)


class DateTimeSerializer(Serializer):
    """A datetime, as a readable ISO 8601 string."""

    def serialize(self, value: Any) -> bytes:
        import pendulum

        text: str = pendulum.instance(value).to_iso8601_string()
        return text.encode()

    def deserialize(self, value: bytes) -> Any:
        import pendulum

        return pendulum.parse(value.decode())


class PandasSerializer(Serializer):
    """A pandas DataFrame, written with `DataFrame.to_<file_type>` and read with
    `pandas.read_<file_type>` (e.g. "csv", "parquet"); pandas must be installed."""

    def __init__(
        self,
        file_type: str,
        deserialize_kwargs: dict[str, Any] | None = None,
        serialize_kwargs: dict[str, Any] | None = None,
    ) -> None:
        self.file_type = file_type
        self.deserialize_kwargs = dict(deserialize_kwargs or {})
        self.serialize_kwargs = dict(serialize_kwargs or {})
        self._reader()  # fail now, not at the first write, on a format pandas does not have
        self._writer()

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, PandasSerializer)
            and type(self) is type(other)
            and (self.file_type, self.serialize_kwargs, self.deserialize_kwargs)
            == (other.file_type, other.serialize_kwargs, other.deserialize_kwargs)
        )

    __hash__ = object.__hash__

    def _reader(self) -> Callable[..., Any]:
        import pandas as pd  # type: ignore[import-not-found, import-untyped, unused-ignore]

        reader = getattr(pd, f"read_{self.file_type}", None)
        if reader is None:
            raise ValueError(
                f"PandasSerializer got file_type={self.file_type!r}, which pandas cannot read "
                "(there is no pandas.read_" + self.file_type + "); use e.g. 'csv' or 'parquet'."
            )
        return reader  # type: ignore[no-any-return]

    def _writer(self, dataframe: Any = None) -> Callable[..., Any]:
        import pandas as pd  # type: ignore[import-not-found, import-untyped, unused-ignore]

        frame = pd.DataFrame() if dataframe is None else dataframe
        writer = getattr(frame, f"to_{self.file_type}", None)
        if writer is None:
            raise ValueError(
                f"PandasSerializer got file_type={self.file_type!r}, which pandas cannot write "
                "(there is no DataFrame.to_" + self.file_type + "); use e.g. 'csv' or 'parquet'."
            )
        return writer  # type: ignore[no-any-return]

    def serialize(self, value: Any) -> bytes:
        write = self._writer(value)
        buffer = io.BytesIO()
        try:
            write(buffer, **self.serialize_kwargs)
            return buffer.getvalue()
        except TypeError:  # text formats (csv, json) want a text buffer
            text = io.StringIO()
            write(text, **self.serialize_kwargs)
            return text.getvalue().encode()

    def deserialize(self, value: bytes) -> Any:
        return self._reader()(io.BytesIO(value), **self.deserialize_kwargs)


class CompressedSerializer(Serializer):
    """Another serializer's bytes, compressed: give `format` ("bz2", "gzip", "lzma", "zlib" or
    any module with `compress`/`decompress`) or both `compress` and `decompress` functions."""

    def __init__(
        self,
        serializer: Serializer,
        format: str | None = None,
        compress: Callable[..., bytes] | None = None,
        decompress: Callable[..., bytes] | None = None,
        compress_kwargs: dict[str, Any] | None = None,
        decompress_kwargs: dict[str, Any] | None = None,
    ) -> None:
        self._serializer = serializer
        if format and (compress or decompress):
            raise ValueError(
                "You must specify either `format` or `compress`/`decompress`, but not both "
                "(CompressedSerializer)."
            )
        if format:
            self._compress, self._decompress = self.compression_from_lib(format)
        elif compress and decompress:
            self._compress, self._decompress = compress, decompress
        else:
            raise ValueError(
                "You must specify either `format` or `compress`/`decompress` "
                "(CompressedSerializer), e.g. format='gzip'."
            )
        self._compress_kwargs = dict(compress_kwargs or {})
        self._decompress_kwargs = dict(decompress_kwargs or {})

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CompressedSerializer) and (
            type(self) is type(other)
            and self._serializer == other._serializer
            and self._compress == other._compress
            and self._decompress == other._decompress
            and self._compress_kwargs == other._compress_kwargs
            and self._decompress_kwargs == other._decompress_kwargs
        )

    __hash__ = object.__hash__

    def serialize(self, value: Any) -> bytes:
        return self._compress(self._serializer.serialize(value), **self._compress_kwargs)

    def deserialize(self, value: bytes) -> Any:
        return self._serializer.deserialize(self._decompress(value, **self._decompress_kwargs))

    @staticmethod
    def compression_from_lib(
        compression_format: str,
    ) -> tuple[Callable[..., bytes], Callable[..., bytes]]:
        """The `compress` and `decompress` functions of module `compression_format`."""
        others = sorted(set(_COMPRESSION_MODULES) - {compression_format})
        try:
            module = importlib.import_module(compression_format)
        except ImportError as exc:
            raise ImportError(
                f"Compression module for {compression_format!r} is not installed. "
                f"Did you mean to use one of {others}?"
            ) from exc
        try:
            return module.compress, module.decompress
        except AttributeError:
            raise ValueError(
                f"Given compression format {compression_format!r} module does not have "
                f"'compress' and 'decompress' attributes; pass compress=/decompress= yourself, "
                f"or use one of {others}."
            ) from None
