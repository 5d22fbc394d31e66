"""Vectorised restoration-log encryption for Spark ``mapInArrow`` (runs on the executors).

Usage in a job (the keys travel to the executors inside the function's closure, pickled with a
binary protocol; they never become a DataFrame column, a literal or a broadcast in a Spark plan)::

    from audits.restoration.batch import (
        DECRYPTED_SCHEMA, ENCRYPTED_SCHEMA, make_decryptor, make_encryptor)

    plain = removed.select("entry_id", "deletion_id", "table", "created_at", "row_json")
    log = plain.mapInArrow(make_encryptor(keys, today_key_id), ENCRYPTED_SCHEMA)
    opened = log.mapInArrow(make_decryptor(keyring.live_keys(today)), DECRYPTED_SCHEMA)

``make_verifier`` is the decryptor without decryption (MAC checks only, no ``row_json``): the
nightly audit of the log uses it so that no personal data is materialised.

The encryptor raises on a malformed input row (a bug in the calling job: nothing may be purged
without its log entry). The decryptor never raises on one bad entry: an entry whose key is gone
becomes ``status='expired'``, one that does not verify ``status='tampered'``, with the reason in
``detail`` and a null ``row_json``.

Input columns are found by name, so extra columns are ignored and order does not matter.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pyspark.sql.types import (
    BinaryType,
    StringType,
    StructField,
    StructType,
    TimestampType,
)

from audits.restoration.arrow import (
    associated_data_array,
    associated_data_list,
    column,
    text_types,
)
from audits.restoration.crypto import (
    BAD_PADDING,
    BLOCK_BYTES,
    IV_BYTES,
    MAC_BYTES,
    MAC_MISMATCH,
    NOT_UTF8,
    RestorationKey,
    RestorationLogError,
    _open_many,
    _seal,
    _shape_problem,
    _SubKeys,
    _verify_many,
)

__all__ = [
    "DECRYPTED_SCHEMA",
    "ENCRYPTED_SCHEMA",
    "PLAINTEXT_SCHEMA",
    "VERIFIED_SCHEMA",
    "make_decryptor",
    "make_encryptor",
    "make_verifier",
]

BatchFn = Callable[[Iterator[pa.RecordBatch]], Iterator[pa.RecordBatch]]

_META = [
    StructField("entry_id", StringType(), False),
    StructField("deletion_id", StringType(), True),
    StructField("table", StringType(), False),
    StructField("created_at", TimestampType(), False),
]

#: What the purge job feeds the encryptor: the entry metadata and the removed row as JSON.
PLAINTEXT_SCHEMA = StructType([*_META, StructField("row_json", StringType(), False)])

#: The ``restoration_log`` table (DESIGN.md §5) plus the source ``table``.
ENCRYPTED_SCHEMA = StructType(
    [
        *_META,
        StructField("key_id", StringType(), False),
        StructField("iv", BinaryType(), False),
        StructField("ciphertext", BinaryType(), False),
        StructField("mac", BinaryType(), False),
    ]
)

#: What the decryptor returns: ``status`` is ``ok``, ``expired`` or ``tampered``; ``detail`` says
#: why an entry is not ``ok``; ``row_json`` is null unless ``status == 'ok'``.
DECRYPTED_SCHEMA = StructType(
    [
        StructField("entry_id", StringType(), True),
        StructField("deletion_id", StringType(), True),
        StructField("table", StringType(), True),
        StructField("created_at", TimestampType(), True),
        StructField("key_id", StringType(), True),
        StructField("row_json", StringType(), True),
        StructField("status", StringType(), False),
        StructField("detail", StringType(), True),
    ]
)

#: What the verifier returns: the decryptor's columns without ``row_json`` (nothing decrypted).
VERIFIED_SCHEMA = StructType([f for f in DECRYPTED_SCHEMA.fields if f.name != "row_json"])


def make_encryptor(
    keys_by_id: Mapping[str, RestorationKey],
    key_id: str,
    *,
    iv_source: Callable[[int], bytes] = os.urandom,
) -> BatchFn:
    """A ``mapInArrow`` function encrypting ``PLAINTEXT_SCHEMA`` batches to ``ENCRYPTED_SCHEMA``.

    Args:
        keys_by_id: the keyring's keys; only ``keys_by_id[key_id]`` enters the closure.
        key_id: today's key id (the entries' ``key_id``).
        iv_source: ``n -> n random bytes`` (one call per batch); ``os.urandom`` by default.

    Returns:
        ``Iterator[pa.RecordBatch] -> Iterator[pa.RecordBatch]`` for ``df.mapInArrow``.

    Raises:
        RestorationLogError: ``expired`` if ``key_id`` is not in ``keys_by_id`` (at once); on
            the executor, ``truncated`` for a row with a null entry_id, table, created_at or
            row_json (the job must fail rather than purge a row it cannot log).
    """
    key = keys_by_id.get(key_id)
    if key is None:
        raise RestorationLogError(None, "expired", f"key {key_id!r} is not in the keyring")

    def encrypt_batches(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        sub = _SubKeys(key)
        for batch in batches:
            yield _encrypt_batch(batch, sub, iv_source)

    return encrypt_batches


def _encrypt_batch(
    batch: pa.RecordBatch, sub: _SubKeys, iv_source: Callable[[int], bytes]
) -> pa.RecordBatch:
    entry_col, del_col, table_col = (column(batch, n) for n in ("entry_id", "deletion_id", "table"))
    created_col, row_col = column(batch, "created_at"), column(batch, "row_json")
    for name, arr in (
        ("entry_id", entry_col),
        ("table", table_col),
        ("created_at", created_col),
        ("row_json", row_col),
    ):
        if arr.null_count:
            raise RestorationLogError(None, "truncated", f"{arr.null_count} rows with null {name}")
    n = batch.num_rows
    str_type, bin_type = text_types(entry_col.type)
    ads = associated_data_list(entry_col, del_col, table_col, created_col)
    rows = row_col.cast(
        pa.large_binary() if pa.types.is_large_string(row_col.type) else pa.binary()
    ).to_pylist()
    ivs = iv_source(IV_BYTES * n)
    if len(ivs) != IV_BYTES * n:
        raise RestorationLogError(None, "truncated", "iv_source returned a bad length")
    iv_list, ct_list, mac_list = [], [], []
    for i in range(n):
        iv = ivs[i * IV_BYTES : (i + 1) * IV_BYTES]
        ct, mac = _seal(sub, ads[i], rows[i], iv)
        iv_list.append(iv)
        ct_list.append(ct)
        mac_list.append(mac)
    return pa.RecordBatch.from_arrays(
        [
            entry_col,
            del_col,
            table_col,
            created_col,
            pa.array([sub.key_id] * n, str_type),
            pa.array(iv_list, bin_type),
            pa.array(ct_list, bin_type),
            pa.array(mac_list, bin_type),
        ],
        names=[f.name for f in ENCRYPTED_SCHEMA.fields],
    )


def make_decryptor(keys_by_id: Mapping[str, RestorationKey]) -> BatchFn:
    """A ``mapInArrow`` function opening ``ENCRYPTED_SCHEMA`` batches to ``DECRYPTED_SCHEMA``.

    Args:
        keys_by_id: the live keys (``Keyring.live_keys(today)``); an entry whose key id is not
            here is ``expired``.

    Returns:
        ``Iterator[pa.RecordBatch] -> Iterator[pa.RecordBatch]`` for ``df.mapInArrow``; it never
        raises on a bad entry (``status`` says ``expired`` or ``tampered``, ``detail`` why).
    """
    return _batch_opener(keys_by_id, plaintext=True)


def make_verifier(keys_by_id: Mapping[str, RestorationKey]) -> BatchFn:
    """A ``mapInArrow`` function checking ``ENCRYPTED_SCHEMA`` batches to ``VERIFIED_SCHEMA``.

    Like :func:`make_decryptor` but it checks the MACs only and never decrypts, so the nightly
    audit of the log never materialises personal data. ``status`` is ``ok`` for an entry that
    verifies under a live key.
    """
    return _batch_opener(keys_by_id, plaintext=False)


def _batch_opener(keys_by_id: Mapping[str, RestorationKey], *, plaintext: bool) -> BatchFn:
    """The ``mapInArrow`` function of :func:`make_decryptor` (``plaintext``) and
    :func:`make_verifier`: sub-keys derived once per key id and task."""
    keys = dict(keys_by_id)

    def open_batches(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        subs: dict[str, _SubKeys] = {}
        for batch in batches:
            yield _decrypt_batch(batch, keys, subs, plaintext=plaintext)

    return open_batches


def _decrypt_batch(
    batch: pa.RecordBatch,
    keys: dict[str, RestorationKey],
    subs: dict[str, _SubKeys],
    *,
    plaintext: bool,
) -> pa.RecordBatch:
    """Open (or only verify) one batch: rows grouped by key id, MACs checked per entry, then all
    verified entries of a key decrypted together (:func:`_open_many`)."""
    entry_col, del_col, table_col = (column(batch, n) for n in ("entry_id", "deletion_id", "table"))
    created_col, key_col = column(batch, "created_at"), column(batch, "key_id")
    iv_col, ct_col, mac_col = column(batch, "iv"), column(batch, "ciphertext"), column(batch, "mac")
    n = batch.num_rows
    str_type, _ = text_types(entry_col.type)
    well_formed = _well_formed(iv_col, ct_col, mac_col, created_col)
    ads = associated_data_array(entry_col, del_col, table_col, created_col)
    status: list[str] = ["ok"] * n
    detail: list[str | None] = [None] * n
    opened: list[tuple[np.ndarray, pa.Array]] = []
    for kid, rows in _rows_by_key(key_col):
        sub = subs.get(kid) if kid is not None else None
        if sub is None and kid is not None and kid in keys:
            sub = subs[kid] = _SubKeys(keys[kid])
        if sub is None:
            for i in rows:
                status[i] = "expired"
                detail[i] = f"key {kid!r} no longer exists (destroyed by rotation)"
            continue
        for i in rows[~well_formed[rows]]:
            problem = (
                "created_at is missing"
                if not created_col[i].is_valid
                else _shape_problem(iv_col[i].as_py(), ct_col[i].as_py(), mac_col[i].as_py())
            )
            status[i], detail[i] = "tampered", f"truncated: {problem}"
        fine = rows[well_formed[rows]]
        failed = _verify_many(sub, *(_pick(a, fine, n) for a in (iv_col, ct_col, ads, mac_col)))
        for j in failed:
            status[fine[j]] = "tampered"
            detail[fine[j]] = "tampered: " + MAC_MISMATCH.format(key_id=sub.key_id)
        if not plaintext:
            continue
        verified = np.delete(fine, failed) if failed else fine
        texts, bad_padding = _open_many(sub, _pick(iv_col, verified, n), _pick(ct_col, verified, n))
        for i in verified[bad_padding]:
            status[i], detail[i] = "tampered", f"tampered: {BAD_PADDING}"
        opened.append((verified, texts))
    columns = [entry_col, del_col, table_col, created_col, key_col]
    if plaintext:
        row_json = _scatter(opened, n)
        columns.append(_utf8(row_json, status, detail, str_type))  # may turn a row 'tampered'
    columns += [pa.array(status, str_type), pa.array(detail, str_type)]
    schema = DECRYPTED_SCHEMA if plaintext else VERIFIED_SCHEMA
    return pa.RecordBatch.from_arrays(columns, names=[f.name for f in schema.fields])


def _pick(arr: pa.Array, positions: np.ndarray, n: int) -> pa.Array:
    """The rows of ``arr`` at ``positions``; no copy when they are all ``n`` rows (the usual
    batch: one key, nothing malformed or tampered)."""
    return arr if positions.size == n else arr.take(pa.array(positions))


def _rows_by_key(key_col: pa.Array) -> Iterator[tuple[str | None, np.ndarray]]:
    """(key id, row positions) for each distinct key id of the batch, nulls as ``None``."""
    encoded = key_col.dictionary_encode()
    codes = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False)
    for code, kid in enumerate(encoded.dictionary.to_pylist()):
        rows = np.flatnonzero(codes == code)
        if rows.size:
            yield kid, rows
    missing = np.flatnonzero(codes < 0)
    if missing.size:
        yield None, missing


def _scatter(parts: list[tuple[np.ndarray, pa.Array]], n: int) -> pa.Array:
    """A ``large_binary`` array of ``n`` rows: ``parts``' values at their positions, else null."""
    if len(parts) == 1 and parts[0][0].size == n and np.array_equal(parts[0][0], np.arange(n)):
        return parts[0][1]
    values = pa.concat_arrays([p[1] for p in parts] + [pa.array([None], pa.large_binary())])
    index = np.full(n, len(values) - 1, dtype=np.int64)
    at = 0
    for positions, texts in parts:
        index[positions] = np.arange(at, at + len(texts))
        at += len(texts)
    return values.take(pa.array(index))


def _well_formed(iv: pa.Array, ct: pa.Array, mac: pa.Array, created: pa.Array) -> np.ndarray:
    """Per row: all fields present and of the lengths a sealed entry has (checked by Arrow)."""
    ct_len = pc.binary_length(ct)
    ok = pc.and_(
        pc.and_(
            pc.equal(pc.binary_length(iv), IV_BYTES), pc.equal(pc.binary_length(mac), MAC_BYTES)
        ),
        pc.and_(pc.greater(ct_len, 0), pc.equal(pc.bit_wise_and(ct_len, BLOCK_BYTES - 1), 0)),
    )
    return pc.fill_null(pc.and_(ok, pc.is_valid(created)), False).to_numpy(zero_copy_only=False)


def _utf8(
    rows: pa.Array, status: list[str], detail: list[str | None], str_type: pa.DataType
) -> pa.Array:
    """The plaintexts as a string array, UTF-8 validated by Arrow in one pass.

    A plaintext that is not UTF-8 (possible only for an entry written with another scheme under
    a valid key) turns that row into ``tampered`` instead of failing the batch.
    """
    try:
        return rows.cast(str_type)
    except pa.ArrowInvalid:
        values = rows.to_pylist()
        for i, row in enumerate(values):
            if row is None:
                continue
            try:
                row.decode("utf-8")
            except UnicodeDecodeError:
                values[i], status[i], detail[i] = None, "tampered", f"tampered: {NOT_UTF8}"
        return pa.array(values, pa.large_binary()).cast(str_type)
