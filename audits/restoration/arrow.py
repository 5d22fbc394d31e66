"""Arrow column helpers of the restoration-log batch functions (:mod:`audits.restoration.batch`).

Finding input columns by name, the string/binary flavour Spark sent, timestamps as microseconds,
and the per-row associated data built with Arrow kernels. Pure: no I/O, no keys.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from audits.restoration.crypto import RestorationLogError, associated_data


def column(batch: pa.RecordBatch, name: str) -> pa.Array:
    index = batch.schema.get_field_index(name)
    if index < 0:
        raise RestorationLogError(None, "truncated", f"input batch has no column {name!r}")
    return batch.column(index)


def micros(arr: pa.Array) -> pa.Array:
    """Timestamps as int64 microseconds since the epoch (whatever unit/zone Arrow sends)."""
    if pa.types.is_timestamp(arr.type) and arr.type.unit != "us":
        arr = pc.cast(arr, pa.timestamp("us", tz=arr.type.tz))
    return arr.cast(pa.int64())


def text_types(sample: pa.DataType) -> tuple[pa.DataType, pa.DataType]:
    """(string, binary) Arrow types matching what Spark sent (large variants or not)."""
    if pa.types.is_large_string(sample):
        return pa.large_string(), pa.large_binary()
    return pa.string(), pa.binary()


_UNSAFE_JSON = r'[\x00-\x1f"\\]'  # characters that JSON string escaping would change


def json_strings(arr: pa.Array) -> pa.Array | None:
    """Each value as a JSON string literal (``null`` for null), or None if one needs escaping."""
    arr = arr.cast(pa.string()) if pa.types.is_large_string(arr.type) else arr
    if pc.any(pc.match_substring_regex(arr, _UNSAFE_JSON)).as_py():
        return None
    quoted = pc.binary_join_element_wise('"', arr, '"', "")
    return pc.fill_null(quoted, "null")


def associated_data_list(
    entry: pa.Array, deletion: pa.Array, table: pa.Array, created: pa.Array
) -> list[bytes]:
    """Per-row :func:`associated_data` bytes (see :func:`associated_data_array`)."""
    return associated_data_array(entry, deletion, table, created).to_pylist()


def associated_data_array(
    entry: pa.Array, deletion: pa.Array, table: pa.Array, created: pa.Array
) -> pa.Array:
    """Per-row :func:`associated_data` bytes as a binary array, built with Arrow kernels.

    Falls back to the scalar function row by row when an id or table name holds a quote, a
    backslash or a control character, or a timestamp is missing; both paths give identical bytes
    (tested).
    """
    stamps = micros(created)
    parts = [json_strings(a) for a in (deletion, entry, table)]
    if any(p is None for p in parts) or pc.any(pc.is_null(stamps)).as_py():
        return pa.array(
            [
                associated_data(e, d, t, c if c is not None else -1)
                for e, d, t, c in zip(
                    entry.to_pylist(),
                    deletion.to_pylist(),
                    table.to_pylist(),
                    stamps.to_pylist(),
                    strict=False,
                )
            ],
            pa.binary(),
        )
    joined = pc.binary_join_element_wise(
        '{"created_at":',
        stamps.cast(pa.string()),
        ',"deletion_id":',
        parts[0],
        ',"entry_id":',
        parts[1],
        ',"table":',
        parts[2],
        "}",
        "",
    )
    return joined.cast(pa.binary())
