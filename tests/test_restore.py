"""Tests of ``compliance restore`` (jobs/commands/restore.py) and of key secrecy (issue 6, items 2 and 4)."""

from __future__ import annotations

import base64
import logging
from pathlib import Path

from _restoration_world import (
    CUSTOMER_ROWS,
    CUSTOMERS,
    NOW,
    ORDER_ROWS,
    ORDERS,
    T1,
    T4,
    build_world,
    eq,
)
from pyspark.sql import functions as F

from audits.restoration.batch import (
    DECRYPTED_SCHEMA,
    ENCRYPTED_SCHEMA,
    make_decryptor,
    make_encryptor,
)
from jobs.commands.purge import purge
from jobs.commands.restoration_rows import with_entry_ids
from jobs.commands.restore import restore
from jobs.secrets.pseudonym import load_or_create
from jobs.steps.keys import keys_rotate, keys_status

ORDER_11 = '{"amount":20.00,"customer_id":2,"order_id":11,"receipt":"/w=="}'
OUTCOMES = "deletion_id string, table string, outcome string, n long"


def _purge_all(w):
    return purge(
        w.ctx, deletion_id=None, all_findings=True, dry_run=False, keyring=w.keyring, now=NOW
    )


def test_restore_brings_the_rows_back_and_restoring_twice_inserts_once(spark, tmp_path):
    w = build_world(spark, tmp_path)
    _purge_all(w)

    first = restore(w.ctx, "del-2", keyring=w.keyring, now=NOW)
    third = restore(w.ctx, "del-3", keyring=w.keyring, now=NOW)
    eq(w.customers(), w.df(CUSTOMER_ROWS, CUSTOMERS))
    eq(w.orders(), w.df(ORDER_ROWS, ORDERS))
    assert [(t.table, t.inserted, t.already_present) for t in first.tables] == [
        ("app.orders", 2, 0),
        ("crm.customers", 2, 0),
    ]
    assert third.inserted == 1 and third.expired == third.tampered == 0

    again = restore(w.ctx, "del-2", keyring=w.keyring, now=NOW)
    assert again.inserted == 0 and sum(t.already_present for t in again.tables) == 4
    eq(w.customers(), w.df(CUSTOMER_ROWS, CUSTOMERS))
    eq(w.orders(), w.df(ORDER_ROWS, ORDERS))
    outcomes = (
        w.ctx.store.read("restore_journal")
        .groupBy("deletion_id", "table", "outcome")
        .agg(F.count(F.lit(1)).alias("n"))
    )
    eq(
        outcomes,
        w.df(
            [
                ("del-2", "app.orders", "restored", 2),
                ("del-2", "crm.customers", "restored", 2),
                ("del-3", "crm.customers", "restored", 1),
                ("del-2", "app.orders", "already_present", 2),
                ("del-2", "crm.customers", "already_present", 2),
            ],
            OUTCOMES,
        ),
    )
    assert "restored       2" in first.text()


def test_tampered_entry_is_reported_and_not_restored(spark, tmp_path):
    w = build_world(spark, tmp_path)
    purge(w.ctx, deletion_id="del-2", all_findings=False, dry_run=False, keyring=w.keyring, now=NOW)
    log = w.ctx.store.read("restoration_log")
    opened = log.select(*ENCRYPTED_SCHEMA.fieldNames()).mapInArrow(
        make_decryptor(w.keyring.live_keys(NOW.date())), DECRYPTED_SCHEMA
    )
    victim = opened.filter(F.col("row_json") == ORDER_11).first().entry_id
    flipped = F.unhex(F.sha2(F.col("entry_id"), 256))  # another 32-byte MAC
    tampered = log.withColumn(
        "mac", F.when(F.col("entry_id") == victim, flipped).otherwise(F.col("mac"))
    )
    w.ctx.store.overwrite("restoration_log", tampered.localCheckpoint())

    report = restore(w.ctx, "del-2", keyring=w.keyring, now=NOW)
    assert report.tampered == 1 and report.tampered_entries == [victim] and report.inserted == 3
    assert victim in report.text() and "tampered" in report.text()
    kept = [r for r in ORDER_ROWS if r[0] != 11]
    eq(w.orders(), w.df(kept, ORDERS))
    eq(
        w.customers(), w.df(CUSTOMER_ROWS, CUSTOMERS)
    )  # del-2's customers are back, del-3 never went
    assert (
        w.ctx.store.read("restore_journal")
        .filter(F.col("outcome") == "tampered")
        .select("entry_id")
        .first()
        .entry_id
    ) == victim


def _forms(secret: bytes) -> list[bytes]:
    """The raw bytes of a key and its hex and base64 spellings."""
    return [
        secret,
        secret.hex().encode(),
        secret.hex().upper().encode(),
        base64.b64encode(secret),
        base64.urlsafe_b64encode(secret),
        base64.b64encode(secret).rstrip(b"="),
    ]


def test_key_bytes_never_appear_in_delta_files_logs_reports_or_plans(spark, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    w = build_world(spark, tmp_path)
    texts = [_purge_all(w).text(), restore(w.ctx, "del-2", keyring=w.keyring, now=NOW).text()]
    texts += [
        keys_rotate(w.ctx, w.keyring, today=NOW.date()).text(),
        keys_status(w.ctx, w.keyring, today=NOW.date()).text(),
    ]
    keys = w.keyring.all_keys()
    assert list(keys) == ["k-20261122"]
    pkey = load_or_create(w.ctx.cfg.keys.dir)
    key = keys["k-20261122"]
    plain = w.df(
        [("crm.customers", '{"a":1}', 1, "d", NOW)],
        "table string, row_json string, occurrence int, deletion_id string, created_at timestamp",
    )
    sealed = with_entry_ids(plain, pkey).mapInArrow(
        make_encryptor(keys, key.key_id), ENCRYPTED_SCHEMA
    )
    plan = sealed._jdf.queryExecution().toString()  # the plan Spark logs and shows
    secrets = _forms(key.reveal_bytes()) + _forms(pkey._secret)

    files = [
        p
        for root in (w.ctx.cfg.warehouse, w.ctx.cfg.audited_warehouse)
        for p in Path(root).rglob("*")
        if p.is_file()
    ]
    log_files = [p for p in files if "restoration_log" in p.parts]
    assert any(p.suffix == ".parquet" for p in log_files) and any(
        p.suffix == ".json" for p in log_files
    )
    haystacks = [(str(p), p.read_bytes()) for p in files]
    haystacks += [
        ("progress log", w.logs.getvalue().encode()),
        ("captured logs", caplog.text.encode()),
        ("plan", plan.encode()),
        ("repr", repr(key).encode()),
        ("keyring", repr(w.keyring).encode()),
    ]
    haystacks += [(f"report {i}", t.encode()) for i, t in enumerate(texts)]
    for where, data in haystacks:
        for s in secrets:
            assert s not in data, f"key material found in {where}"
    assert "k-20261122" in texts[2] and "k-20261122" in texts[3]
    eq(
        w.customers().filter(F.col("customer_id") != 3),
        w.df(
            [(1, "ann@example.com", T1)]
            + [r for r in CUSTOMER_ROWS if r[0] == 2]
            + [(4, "dee@example.com", T4)],
            CUSTOMERS,
        ),
    )
