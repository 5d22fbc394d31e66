"""Tests for the restoration-log cryptography (audits/restoration/log.py, restoration_batch.py)."""

from __future__ import annotations

import base64
import copy
import dataclasses
import json
import logging
import pickle
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest
from chispa import assert_df_equality
from cryptography.hazmat.primitives import hashes, hmac, padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from pyspark.sql import functions as F

from audits.restoration.batch import (
    DECRYPTED_SCHEMA,
    ENCRYPTED_SCHEMA,
    PLAINTEXT_SCHEMA,
    make_decryptor,
    make_encryptor,
)
from audits.restoration.crypto import _seal, _SubKeys
from audits.restoration.log import (
    EncryptedEntry,
    InvalidKeyError,
    RestorationKey,
    RestorationLogError,
    RestorationRecord,
    associated_data,
    decrypt_entry,
    encrypt_entry,
    serialize_row,
    to_micros,
)
from audits.restoration.log_checks import KeyFinding, key_findings, log_health, verify_log
from jobs.secrets.keyring import FileKeyring, MemoryKeyring, key_id_for

UTC = timezone.utc
TODAY = date(2026, 11, 22)
KEY_A = RestorationKey("k-20261122", bytes(range(32)))
KEY_B = RestorationKey("k-20261121", bytes(range(100, 132)))
SECRET_ROW = '{"email":"alice@example.com","id":42,"name":"Alice Ünïcode"}'


def _record(
    entry_id: str = "e1",
    deletion_id: str | None = "d1",
    row: str = SECRET_ROW,
    created: datetime = datetime(2026, 11, 22, 3, 4, 5, 678901, tzinfo=UTC),
):
    return RestorationRecord(entry_id, deletion_id, "crm.customers", created, row)


def _forms(material: bytes) -> list[str]:
    return [
        material.decode("latin-1"),
        material.hex(),
        material.hex().upper(),
        base64.b64encode(material).decode(),
        base64.urlsafe_b64encode(material).decode(),
    ]


def _flip(data: bytes, index: int, bit: int = 1) -> bytes:
    out = bytearray(data)
    out[index] ^= bit
    return bytes(out)


# --- serialisation -----------------------------------------------------------------------------


def test_associated_data_is_sorted_key_json() -> None:
    for entry_id, deletion_id, table in [
        ("e1", "d1", "crm.customers"),
        ('e"\\2', None, "ünï.ç\u2028ode"),
    ]:
        expected = json.dumps(
            {
                "created_at": 1763780645678901,
                "deletion_id": deletion_id,
                "entry_id": entry_id,
                "table": table,
            },
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
        ).encode("utf-8")
        assert associated_data(entry_id, deletion_id, table, 1763780645678901) == expected


def test_serialize_row_is_deterministic() -> None:
    row = {"b": Decimal("1.50"), "a": date(2026, 1, 2), "c": b"\x00\xff", "d": None, "é": 1}
    assert serialize_row(row) == '{"a":"2026-01-02","b":"1.50","c":"AP8=","d":null,"é":1}'
    assert serialize_row(dict(reversed(list(row.items())))) == serialize_row(row)
    with pytest.raises(TypeError, match="cannot serialise a object"):
        serialize_row({"x": object()})


def test_to_micros_takes_naive_as_utc() -> None:
    assert to_micros(datetime(1970, 1, 1, 0, 0, 1, 5)) == 1_000_005
    plus_two = timezone(timedelta(hours=2))
    assert to_micros(datetime(1970, 1, 1, 2, 0, 1, tzinfo=plus_two)) == 1_000_000


# --- round trip and the documented scheme ------------------------------------------------------


def test_round_trip_with_a_key_or_a_mapping() -> None:
    entry = encrypt_entry(_record(), KEY_A)
    assert (entry.entry_id, entry.deletion_id, entry.table, entry.key_id) == (
        "e1",
        "d1",
        "crm.customers",
        "k-20261122",
    )
    assert len(entry.iv) == 16 and len(entry.mac) == 32 and len(entry.ciphertext) % 16 == 0
    assert decrypt_entry(entry, KEY_A) == _record()
    assert decrypt_entry(entry, {"k-20261122": KEY_A, "k-20261121": KEY_B}) == _record()


def test_fresh_iv_per_entry() -> None:
    one, two = encrypt_entry(_record(), KEY_A), encrypt_entry(_record(), KEY_A)
    assert one.iv != two.iv and one.ciphertext != two.ciphertext


def test_matches_an_independent_implementation_of_the_scheme() -> None:
    """HKDF sub-keys, AES-256-CBC/PKCS7, HMAC over the framed fields, exactly as documented."""
    iv = bytes(range(16))
    entry = encrypt_entry(_record(), KEY_A, iv_source=lambda n: iv)
    salt = b"compliance-jobs/restoration-log/v1"
    enc_key = HKDF(hashes.SHA256(), 32, salt, b"enc|k-20261122").derive(KEY_A.reveal_bytes())
    mac_key = HKDF(hashes.SHA256(), 32, salt, b"mac|k-20261122").derive(KEY_A.reveal_bytes())
    padder = padding.PKCS7(128).padder()
    padded = padder.update(SECRET_ROW.encode()) + padder.finalize()
    cipher = Cipher(algorithms.AES(enc_key), modes.CBC(iv)).encryptor()
    ciphertext = cipher.update(padded) + cipher.finalize()
    ad = associated_data("e1", "d1", "crm.customers", to_micros(_record().created_at))

    def lp(b: bytes) -> bytes:
        return len(b).to_bytes(4, "big") + b

    mac = hmac.HMAC(mac_key, hashes.SHA256())
    mac.update(b"\x01" + lp(b"k-20261122") + lp(iv) + lp(ciphertext) + ad)
    assert entry == EncryptedEntry(
        "e1",
        "d1",
        "crm.customers",
        _record().created_at,
        "k-20261122",
        iv,
        ciphertext,
        mac.finalize(),
    )


# --- tampering ---------------------------------------------------------------------------------


def _tampered_cases() -> dict[str, tuple[EncryptedEntry, str]]:
    good = encrypt_entry(_record("e1"), KEY_A)
    other = encrypt_entry(_record("e2"), KEY_A)
    rekeyed_b = encrypt_entry(_record("e1"), KEY_B)
    return {
        "flipped ciphertext bit": (
            dataclasses.replace(good, ciphertext=_flip(good.ciphertext, 5)),
            "tampered",
        ),
        "flipped last ciphertext bit": (
            dataclasses.replace(good, ciphertext=_flip(good.ciphertext, -1, 0x80)),
            "tampered",
        ),
        "flipped iv bit": (dataclasses.replace(good, iv=_flip(good.iv, 0)), "tampered"),
        "ciphertext cut by a block": (
            dataclasses.replace(good, ciphertext=good.ciphertext[:-16]),
            "tampered",
        ),
        "ciphertext cut mid-block": (
            dataclasses.replace(good, ciphertext=good.ciphertext[:-3]),
            "truncated",
        ),
        "empty ciphertext": (dataclasses.replace(good, ciphertext=b""), "truncated"),
        "short iv": (dataclasses.replace(good, iv=good.iv[:8]), "truncated"),
        "short mac": (dataclasses.replace(good, mac=good.mac[:16]), "truncated"),
        "mac swapped with another entry": (dataclasses.replace(good, mac=other.mac), "tampered"),
        "ciphertext swapped with another entry": (
            dataclasses.replace(good, iv=other.iv, ciphertext=other.ciphertext),
            "tampered",
        ),
        "entry id reordered": (dataclasses.replace(other, entry_id="e1"), "tampered"),
        "re-labelled with another live key id": (
            dataclasses.replace(good, key_id="k-20261121"),
            "tampered",
        ),
        "re-keyed body under another id": (
            dataclasses.replace(rekeyed_b, key_id="k-20261122"),
            "tampered",
        ),
        "deletion id changed": (dataclasses.replace(good, deletion_id="d2"), "tampered"),
        "deletion id removed": (dataclasses.replace(good, deletion_id=None), "tampered"),
        "table changed": (dataclasses.replace(good, table="crm.orders"), "tampered"),
        "created_at moved by 1us": (
            dataclasses.replace(good, created_at=good.created_at + timedelta(microseconds=1)),
            "tampered",
        ),
    }


@pytest.mark.parametrize("case", list(_tampered_cases()))
def test_each_tamper_case_is_detected_without_plaintext(case: str) -> None:
    entry, reason = _tampered_cases()[case]
    with pytest.raises(RestorationLogError) as info:
        decrypt_entry(entry, {"k-20261122": KEY_A, "k-20261121": KEY_B})
    err = info.value
    assert (err.entry_id, err.reason) == (entry.entry_id, reason)
    assert f"entry {entry.entry_id!r}: {reason}:" in str(err)
    for secret in ["alice", "Alice", "example.com"]:
        assert secret not in str(err) and secret not in repr(err.args)


def test_wrong_key_and_expired_key() -> None:
    entry = encrypt_entry(_record(), KEY_A)
    with pytest.raises(RestorationLogError, match="'e1': wrong_key: .*'k-20261122', not "):
        decrypt_entry(entry, KEY_B)
    with pytest.raises(RestorationLogError, match="'e1': expired: key 'k-20261122' no longer"):
        decrypt_entry(entry, {"k-20261121": KEY_B})


# --- expiry by rotation ------------------------------------------------------------------------


def test_entry_from_91_days_ago_is_unrecoverable_while_89_days_restores(tmp_path: Path) -> None:
    ring = FileKeyring(tmp_path / "keys")
    entries = {}
    for age in (91, 89):
        day = TODAY - timedelta(days=age)
        written = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
        entries[age] = encrypt_entry(_record(f"e{age}", created=written), ring.today_key(day))
    report = ring.rotate(TODAY, retention_days=90)
    assert report.destroyed == (key_id_for(TODAY - timedelta(days=91)),)
    live = ring.live_keys(TODAY)
    assert decrypt_entry(entries[89], live).row_json == SECRET_ROW
    with pytest.raises(RestorationLogError) as info:
        decrypt_entry(entries[91], live)
    assert info.value.reason == "expired"
    # a fresh keyring object over the same directory cannot find it either
    assert key_id_for(TODAY - timedelta(days=91)) not in FileKeyring(ring.path).live_keys(TODAY)


# --- key hygiene -------------------------------------------------------------------------------


def test_key_repr_and_errors_never_show_key_bytes(caplog) -> None:
    caplog.set_level(logging.DEBUG)
    entry = encrypt_entry(_record(), KEY_A)
    texts = [
        repr(KEY_A),
        str(KEY_A),
        f"{KEY_A}",
        f"{KEY_A!r:>200}",
        repr([KEY_A]),
        repr({"k": KEY_A}),
        repr(entry),
        repr(_record()),
    ]
    for bad in [dataclasses.replace(entry, mac=entry.mac[::-1]), entry]:
        for keys in (KEY_B, {}, {"k-20261122": KEY_A}):
            try:
                decrypt_entry(bad, keys)
            except RestorationLogError as exc:
                texts += [str(exc), repr(exc)]
                logging.getLogger("test").exception("failed")
    for ctor_args in [("k-x", b"short"), ("", bytes(32))]:
        with pytest.raises(InvalidKeyError) as info:
            RestorationKey(*ctor_args)
        texts.append(str(info.value))
    texts.append(caplog.text)
    blob = "\n".join(texts)
    assert "<redacted>" in repr(KEY_A)
    assert "alice" not in blob
    for form in _forms(KEY_A.reveal_bytes()) + _forms(KEY_B.reveal_bytes()):
        assert form not in blob


def test_key_refuses_text_pickling_and_json() -> None:
    for protocol in (0, 1):
        with pytest.raises(TypeError, match="refuses text pickling"):
            pickle.dumps(KEY_A, protocol=protocol)
    with pytest.raises(TypeError):
        json.dumps(KEY_A)
    with pytest.raises(TypeError):
        bytes(KEY_A)
    with pytest.raises(AttributeError):
        KEY_A._material = b"x" * 32  # type: ignore[misc]
    assert pickle.loads(pickle.dumps(KEY_A, protocol=5)) == KEY_A
    assert copy.deepcopy(KEY_A) == KEY_A
    assert KEY_A != RestorationKey("k-20261122", bytes(32))


# --- Arrow batch functions (no Spark) ----------------------------------------------------------


def _plain_batch(rows: list[tuple]) -> pa.RecordBatch:
    return pa.RecordBatch.from_pylist(
        [
            dict(
                zip(["entry_id", "deletion_id", "table", "created_at", "row_json"], r, strict=False)
            )
            for r in rows
        ],
        schema=pa.schema(
            [
                ("entry_id", pa.string()),
                ("deletion_id", pa.string()),
                ("table", pa.string()),
                ("created_at", pa.timestamp("us", tz="UTC")),
                ("row_json", pa.string()),
            ]
        ),
    )


def test_batch_encryptor_matches_scalar_decrypt_and_rejects_null_rows() -> None:
    created = datetime(2026, 11, 22, 1, tzinfo=UTC)
    batch = _plain_batch(
        [
            ("e1", "d1", "crm.customers", created, SECRET_ROW),
            ("e2", None, "crm.customers", created, "{}"),
        ]
    )
    (out,) = list(make_encryptor({"k-20261122": KEY_A}, "k-20261122")([batch]))
    got = out.to_pylist()
    for row, plain in zip(got, [SECRET_ROW, "{}"], strict=False):
        entry = EncryptedEntry(**row)
        assert decrypt_entry(entry, KEY_A).row_json == plain
    null_row = _plain_batch([("e3", "d1", "crm.customers", created, None)])
    with pytest.raises(RestorationLogError, match="1 rows with null row_json"):
        list(make_encryptor({"k-20261122": KEY_A}, "k-20261122")([null_row]))
    with pytest.raises(
        RestorationLogError, match="^restoration_log: expired: key 'k-20200101' is not in"
    ):
        make_encryptor({"k-20261122": KEY_A}, "k-20200101")


def test_batch_associated_data_matches_scalar_for_strings_needing_escapes() -> None:
    created = datetime(2026, 11, 22, 1, 2, 3, 4, tzinfo=UTC)
    awkward = [
        ('e"1', "d\\1", "crm.ünï", created, "{}"),
        ("e\n2", None, 'x"y', created, '{"a":1}'),
        ("e3", "d\x01", "crm.customers", created, "[]"),
    ]
    vectorised = [("e1", "d1", "crm.ünï\u2028", created, "{}"), ("e2", None, "t", created, "")]
    for rows in (awkward, vectorised):
        (out,) = list(make_encryptor({KEY_A.key_id: KEY_A}, KEY_A.key_id)([_plain_batch(rows)]))
        for row, (entry_id, *_, plain) in zip(out.to_pylist(), rows, strict=False):
            entry = EncryptedEntry(**row)
            assert (entry.entry_id, decrypt_entry(entry, KEY_A).row_json) == (entry_id, plain)


def test_batch_decryptor_turns_bad_entries_into_status_rows() -> None:
    created = datetime(2026, 11, 22, 1, tzinfo=UTC)
    good = encrypt_entry(_record("e1", created=created), KEY_A)
    rows = [
        good,
        dataclasses.replace(encrypt_entry(_record("e2", created=created), KEY_A), mac=None),
        dataclasses.replace(good, entry_id="e3"),
        encrypt_entry(_record("e4", created=created), KEY_B),
        dataclasses.replace(good, entry_id="e5", ciphertext=good.ciphertext[:-1]),
        dataclasses.replace(good, entry_id="e6", iv=good.iv + b"x"),
        dataclasses.replace(good, created_at=None),
    ]
    batch = pa.RecordBatch.from_pylist(
        [dataclasses.asdict(e) for e in rows], schema=ENCRYPTED_SCHEMA_ARROW
    )
    (out,) = list(make_decryptor({"k-20261122": KEY_A})([batch]))
    got = [(r["entry_id"], r["row_json"], r["status"], r["detail"]) for r in out.to_pylist()]
    assert got == [
        ("e1", SECRET_ROW, "ok", None),
        ("e2", None, "tampered", "truncated: iv, ciphertext or mac is missing"),
        (
            "e3",
            None,
            "tampered",
            "tampered: MAC does not verify under key 'k-20261122': the "
            "entry was modified, moved or re-keyed",
        ),
        ("e4", None, "expired", "key 'k-20261121' no longer exists (destroyed by rotation)"),
        (
            "e5",
            None,
            "tampered",
            "truncated: ciphertext is 63 bytes, not a positive multiple of 16",
        ),
        ("e6", None, "tampered", "truncated: iv is 17 bytes, expected 16"),
        ("e1", None, "tampered", "truncated: created_at is missing"),
    ]


def test_valid_mac_over_non_utf8_plaintext_is_tampered_not_a_crash() -> None:
    created = datetime(2026, 11, 22, 1, tzinfo=UTC)
    ad = associated_data("e9", "d1", "crm.customers", to_micros(created))
    iv = bytes(16)
    ct, mac = _seal(_SubKeys(KEY_A), ad, b"\xff\xfe not utf-8", iv)
    odd = EncryptedEntry("e9", "d1", "crm.customers", created, KEY_A.key_id, iv, ct, mac)
    with pytest.raises(RestorationLogError, match="'e9': tampered: plaintext is not UTF-8"):
        decrypt_entry(odd, KEY_A)
    good = encrypt_entry(_record("e1", created=created), KEY_A)
    batch = pa.RecordBatch.from_pylist(
        [dataclasses.asdict(e) for e in (good, odd)], schema=ENCRYPTED_SCHEMA_ARROW
    )
    (out,) = list(make_decryptor({KEY_A.key_id: KEY_A})([batch]))
    assert [(r["entry_id"], r["row_json"], r["status"]) for r in out.to_pylist()] == [
        ("e1", SECRET_ROW, "ok"),
        ("e9", None, "tampered"),
    ]


@pytest.mark.parametrize("layout", ["plain", "large", "fixed_iv"])
def test_batch_decryptor_many_entries_two_keys_match_scalar_decrypt(layout: str) -> None:
    """Entries of every padding length (0..47 bytes of plaintext, one of them empty), two keys
    interleaved, a MAC failure and a valid-MAC-but-bad-padding entry in the middle, and input
    arrays that are slices (non-zero offsets), as binary, large_binary or (IV) fixed-size
    binary columns: each row equals what the scalar path says."""
    created = datetime(2026, 11, 22, 1, tzinfo=UTC)
    entries, expected = [], []
    for i in range(48):
        key = KEY_A if i % 3 else KEY_B
        row = "x" * i if i else ""
        entries.append(encrypt_entry(_record(f"e{i}", row=row, created=created), key))
        expected.append((f"e{i}", row, "ok", None))
    good = entries[5]
    entries[7] = dataclasses.replace(good, entry_id="e7")  # MAC over e5's associated data
    expected[7] = (
        "e7",
        None,
        "tampered",
        "tampered: MAC does not verify under key "
        "'k-20261122': the entry was modified, moved or re-keyed",
    )
    ad = associated_data("e20", "d1", "crm.customers", to_micros(created))
    iv = bytes(range(16))
    sub = _SubKeys(KEY_A)
    raw = Cipher(sub.aes, modes.CBC(iv)).encryptor()
    # the last byte says 5 bytes of padding but the four before it are not 5
    ct = raw.update(b"sixteen bytes!!!" + b"\x00" * 15 + b"\x05") + raw.finalize()
    h = sub.mac_base.copy()
    h.update(sub.prefix + iv + len(ct).to_bytes(4, "big") + ct + ad)
    entries[20] = EncryptedEntry(
        "e20", "d1", "crm.customers", created, KEY_A.key_id, iv, ct, h.finalize()
    )
    expected[20] = (
        "e20",
        None,
        "tampered",
        "tampered: bad PKCS7 padding after a valid MAC (entry written with another scheme)",
    )
    schema = ENCRYPTED_SCHEMA_ARROW
    if layout == "large":
        schema = pa.schema(
            [
                pa.field(
                    f.name,
                    {pa.string(): pa.large_string(), pa.binary(): pa.large_binary()}.get(
                        f.type, f.type
                    ),
                )
                for f in schema
            ]
        )
    if layout == "fixed_iv":
        schema = schema.set(schema.get_field_index("iv"), pa.field("iv", pa.binary(16)))
    padding_row = dataclasses.asdict(entries[0])
    table = pa.Table.from_pylist(
        [padding_row] + [dataclasses.asdict(e) for e in entries], schema=schema
    )
    batch = table.combine_chunks().to_batches()[0].slice(1)  # offsets start past row 0
    (out,) = list(make_decryptor({KEY_A.key_id: KEY_A, KEY_B.key_id: KEY_B})([batch]))
    got = [(r["entry_id"], r["row_json"], r["status"], r["detail"]) for r in out.to_pylist()]
    assert got == expected
    # the scalar path agrees on every entry that opens
    for entry, (_, row, status, _) in zip(entries, expected, strict=False):
        if status == "ok":
            key = KEY_A if entry.key_id == KEY_A.key_id else KEY_B
            assert decrypt_entry(entry, key).row_json == row


ENCRYPTED_SCHEMA_ARROW = pa.schema(
    [
        ("entry_id", pa.string()),
        ("deletion_id", pa.string()),
        ("table", pa.string()),
        ("created_at", pa.timestamp("us", tz="UTC")),
        ("key_id", pa.string()),
        ("iv", pa.binary()),
        ("ciphertext", pa.binary()),
        ("mac", pa.binary()),
    ]
)


# --- Spark mapInArrow --------------------------------------------------------------------------


def test_spark_map_in_arrow_round_trip_with_expired_and_tampered(spark) -> None:
    ring = MemoryKeyring()
    today_key = ring.today_key(TODAY)
    old_key = ring.today_key(TODAY - timedelta(days=91))
    t0 = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
    t_old = datetime(2026, 8, 23, 10, 0, tzinfo=UTC)
    plain = spark.createDataFrame(
        [
            ("e1", "d1", "crm.customers", t0, '{"email":"a@x.io","id":1}'),
            ("e2", "d1", "crm.orders", t0, '{"id":7,"note":"ünï"}'),
            ("e3", None, "crm.customers", t0, '{"email":"c@x.io","id":3}'),
            ("e4", "d2", "crm.customers", t0, '{"email":"d@x.io","id":4}'),
            ("e5", "d2", "crm.customers", t0, '{"email":"e@x.io","id":5}'),
        ],
        PLAINTEXT_SCHEMA,
    )
    encrypted = plain.mapInArrow(
        make_encryptor(ring.live_keys(TODAY), today_key.key_id), ENCRYPTED_SCHEMA
    )
    # an entry written 91 days ago under a key that rotation then destroys
    old = spark.createDataFrame(
        [("e6", "d3", "crm.customers", t_old, '{"id":6}')], PLAINTEXT_SCHEMA
    ).mapInArrow(make_encryptor({old_key.key_id: old_key}, old_key.key_id), ENCRYPTED_SCHEMA)
    ring.rotate(TODAY)
    flipped_hex = F.concat(
        F.when(F.substring(F.hex("ciphertext"), 1, 1) == "0", "1").otherwise("0"),
        F.expr("substring(hex(ciphertext), 2)"),
    )
    stored = encrypted.unionByName(old).select(
        "entry_id",
        F.when(F.col("entry_id") == "e4", F.lit("d9"))
        .otherwise(F.col("deletion_id"))
        .alias("deletion_id"),
        "table",
        "created_at",
        "key_id",
        "iv",
        F.when(F.col("entry_id") == "e5", F.unhex(flipped_hex))
        .otherwise(F.col("ciphertext"))
        .alias("ciphertext"),
        "mac",
    )
    opened = stored.mapInArrow(make_decryptor(ring.live_keys(TODAY)), DECRYPTED_SCHEMA)
    mac_fail = (
        "tampered: MAC does not verify under key 'k-20261122': the entry was modified, "
        "moved or re-keyed"
    )
    expected = spark.createDataFrame(
        [
            (
                "e1",
                "d1",
                "crm.customers",
                t0,
                "k-20261122",
                '{"email":"a@x.io","id":1}',
                "ok",
                None,
            ),
            ("e2", "d1", "crm.orders", t0, "k-20261122", '{"id":7,"note":"ünï"}', "ok", None),
            (
                "e3",
                None,
                "crm.customers",
                t0,
                "k-20261122",
                '{"email":"c@x.io","id":3}',
                "ok",
                None,
            ),
            ("e4", "d9", "crm.customers", t0, "k-20261122", None, "tampered", mac_fail),
            ("e5", "d2", "crm.customers", t0, "k-20261122", None, "tampered", mac_fail),
            (
                "e6",
                "d3",
                "crm.customers",
                t_old,
                "k-20260823",
                None,
                "expired",
                "key 'k-20260823' no longer exists (destroyed by rotation)",
            ),
        ],
        DECRYPTED_SCHEMA,
    )
    assert_df_equality(opened, expected, ignore_row_order=True, ignore_nullable=True)

    # the keys are in the closure only: never in the plans
    plans = "\n".join(
        df._jdf.queryExecution().toString() for df in (encrypted, old, stored, opened)
    )
    assert "MapInArrow" in plans
    for key in (today_key, old_key):
        for form in _forms(key.reveal_bytes())[1:]:
            assert form not in plans


def test_spark_entries_open_with_the_scalar_api(spark) -> None:
    t0 = datetime(2026, 11, 22, 10, 0, 0, 123456, tzinfo=UTC)
    plain = spark.createDataFrame([("e1", "d1", "crm.customers", t0, SECRET_ROW)], PLAINTEXT_SCHEMA)
    rows = plain.mapInArrow(
        make_encryptor({KEY_A.key_id: KEY_A}, KEY_A.key_id), ENCRYPTED_SCHEMA
    ).collect()
    entry = EncryptedEntry(
        **{
            k: (bytes(v) if isinstance(v, (bytearray, memoryview)) else v)
            for k, v in rows[0].asDict().items()
        }
    )
    assert decrypt_entry(entry, KEY_A).row_json == SECRET_ROW


# --- audit of the log itself -------------------------------------------------------------------


def test_key_findings_flag_keys_past_the_window_and_from_the_future() -> None:
    ring = MemoryKeyring()
    for age in (95, 90, 89, 0, -1):
        ring.today_key(TODAY - timedelta(days=age))
    assert key_findings(ring.status(TODAY), retention_days=90) == [
        KeyFinding(
            "k-20260819",
            "key_past_window",
            "key k-20260819 is 95 days old; keys must "
            "be destroyed at 90 days (run 'compliance keys rotate')",
        ),
        KeyFinding(
            "k-20260824",
            "key_past_window",
            "key k-20260824 is 90 days old; keys must "
            "be destroyed at 90 days (run 'compliance keys rotate')",
        ),
        KeyFinding(
            "k-20261123", "key_from_future", "key k-20261123 is dated 1 days after the run date"
        ),
    ]


def test_verify_log_and_health_per_day(spark) -> None:
    ring = MemoryKeyring()
    keys = {age: ring.today_key(TODAY - timedelta(days=age)) for age in (0, 10, 91, 92)}

    def at(age: int) -> datetime:
        day = TODAY - timedelta(days=age)
        return datetime(day.year, day.month, day.day, 8, tzinfo=UTC)

    entries = [
        encrypt_entry(_record(f"e{age}-{i}", created=at(age)), keys[age])
        for age in (0, 10, 91, 92)
        for i in range(2)
    ]
    entries[1] = dataclasses.replace(entries[1], mac=entries[0].mac)  # tampered today
    log = spark.createDataFrame([dataclasses.astuple(e) for e in entries], ENCRYPTED_SCHEMA)
    ring._destroy(keys[10].key_id)  # lost early
    ring._destroy(keys[92].key_id)  # destroyed by rotation; the day -91 key was missed
    verified = log.transform(verify_log(ring.all_keys()))
    assert "row_json" not in verified.columns
    health = log_health(verified, today=TODAY, retention_days=90)
    expected = spark.createDataFrame(
        [
            (TODAY, 0, 2, 1, 0, 1, 0, 0),
            (TODAY - timedelta(days=10), 10, 2, 0, 2, 0, 0, 2),
            (TODAY - timedelta(days=91), 91, 2, 2, 0, 0, 2, 0),
            (TODAY - timedelta(days=92), 92, 2, 0, 2, 0, 0, 0),
        ],
        "day date, age_days int, entries long, verified long, expired long, tampered long, "
        "readable_past_window long, expired_within_window long",
    )
    assert_df_equality(health, expected, ignore_row_order=True, ignore_nullable=True)
