"""The warehouse on S3-compatible object storage (a moto server on loopback, tests/conftest.py).

The store contract runs on ``s3a://`` for both engines in the default suite; the whole demo
nightly with both warehouses on the endpoint, time travel there and the secret grep over
everything it wrote are slow (one whole nightly) and run from .ci/run. Expectations are written
from the store contract and the README, not from the engines' output.
"""

from __future__ import annotations

import json
import time
import uuid
from datetime import date
from pathlib import Path

import pytest
from _s3 import S3_KEY_ID, S3_SECRET, start_moto
from pyspark.sql import functions as F

from jobs.errors import ConfigError
from jobs.store import object_store
from jobs.store.tables import TableStore

SCHEMA = "id bigint, name string"


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- the configuration, no Spark -------------------------------------------------------------------


def test_s3_uris_become_s3a_for_spark_and_others_stay():
    assert object_store.spark_uri("s3://lake/wh/x") == "s3a://lake/wh/x"
    assert object_store.spark_uri("s3a://lake/wh") == "s3a://lake/wh"
    assert object_store.spark_uri("/data/wh") == "/data/wh"
    assert object_store.is_object_store("S3://lake/wh") and object_store.is_object_store(
        "s3a://b/p"
    )
    assert not object_store.is_object_store("/data/s3/wh") and not object_store.is_object_store(
        "hdfs://nn/wh"
    )


def test_one_description_gives_both_engines_their_settings_and_no_spark_conf_holds_a_secret():
    opts = {
        "aws_endpoint_url": "http://127.0.0.1:9000",  # delta-rs keys are case-insensitive
        "AWS_REGION": "eu-west-1",
        "AWS_ACCESS_KEY_ID": "AKIACONF",
        "AWS_SECRET_ACCESS_KEY": S3_SECRET,
    }
    st = object_store.resolve(opts, env={})
    assert st.credentials_from == "storage.storage_options"
    conf = st.spark_conf()
    assert conf["spark.hadoop.fs.s3a.endpoint"] == "http://127.0.0.1:9000"
    assert conf["spark.hadoop.fs.s3a.path.style.access"] == "true"
    assert conf["spark.hadoop.fs.s3a.connection.ssl.enabled"] == "false"
    assert conf["spark.hadoop.fs.s3a.endpoint.region"] == "eu-west-1"
    assert not [k for k, v in conf.items() if S3_SECRET in v or "AKIACONF" in v or "key" in k]
    live = st.hadoop_settings(secrets=True)
    assert live["fs.s3a.secret.key"] == S3_SECRET and live["fs.s3a.access.key"] == "AKIACONF"
    rs = st.delta_rs_options()
    assert rs["AWS_ENDPOINT_URL"] == "http://127.0.0.1:9000" and rs["AWS_ALLOW_HTTP"] == "true"
    # commits are put-if-absent unless the user chose how commits are made safe
    assert rs["AWS_CONDITIONAL_PUT"] == "etag" and rs["AWS_SECRET_ACCESS_KEY"] == S3_SECRET
    assert "AWS_S3_ALLOW_UNSAFE_RENAME" not in rs
    for chosen in (
        {"AWS_S3_LOCKING_PROVIDER": "dynamodb"},
        {"aws_s3_allow_unsafe_rename": "true"},
        {"conditional_put": "disabled"},
    ):
        given = object_store.resolve({**opts, **chosen}, env={}).delta_rs_options()
        assert "AWS_CONDITIONAL_PUT" not in given or chosen == {"conditional_put": "disabled"}
        assert "AWS_S3_ALLOW_UNSAFE_RENAME" not in given or "aws_s3_allow_unsafe_rename" in chosen
    assert (
        object_store.resolve({**opts, "conditional_put": "disabled"}, env={}).delta_rs_options()[
            "AWS_CONDITIONAL_PUT"
        ]
        == "disabled"
    )
    assert S3_SECRET not in repr(st) and "AKIACONF" not in repr(st)


def test_credentials_from_the_environment_win_over_the_config_and_half_a_pair_is_refused():
    env = {"AWS_ACCESS_KEY_ID": "AKIAENV", "AWS_SECRET_ACCESS_KEY": "env-secret"}
    st = object_store.resolve({"AWS_ACCESS_KEY_ID": "AKIACONF", "AWS_SECRET_ACCESS_KEY": "x"}, env)
    assert (st.access_key, st.secret_key, st.credentials_from) == (
        "AKIAENV",
        "env-secret",
        "environment",
    )
    with pytest.raises(ConfigError, match="lack AWS_SECRET_ACCESS_KEY") as e:
        object_store.resolve({"AWS_ACCESS_KEY_ID": "AKIACONF"}, env={})
    assert "AKIACONF" not in str(e.value)
    with pytest.raises(ConfigError, match="AWS_ENDPOINT_URL"):
        object_store.resolve({"AWS_ENDPOINT_URL": "127.0.0.1:9000"}, env={})


def test_the_config_repr_shows_option_keys_but_no_secret(tmp_path):
    from jobs.config.settings import load_config

    conf = tmp_path / "c.yaml"
    conf.write_text(
        f"home: {tmp_path}\nwarehouse: s3://lake/wh\nstorage:\n  storage_options:\n"
        f"    AWS_REGION: us-east-1\n    AWS_ACCESS_KEY_ID: {S3_KEY_ID}\n"
        f"    AWS_SECRET_ACCESS_KEY: {S3_SECRET}\n",
        encoding="utf-8",
    )
    cfg = load_config(conf, env={})
    assert cfg.warehouse == "s3://lake/wh"
    assert cfg.storage.storage_options["AWS_SECRET_ACCESS_KEY"] == S3_SECRET  # still usable
    for text in (repr(cfg), str(cfg), repr(cfg.storage)):
        assert S3_SECRET not in text and S3_KEY_ID not in text
        assert "AWS_SECRET_ACCESS_KEY" in text and "us-east-1" in text


def test_missing_hadoop_aws_jars_are_one_line_naming_the_fetch_command(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))  # an empty Ivy folder
    monkeypatch.delenv("COMPLIANCE_DELTA_JARS", raising=False)
    with pytest.raises(ConfigError) as e:
        object_store.plan(
            {"warehouse": "s3://lake/wh"},
            {"AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b"},
            {},
            check=False,
        )
    msg = str(e.value)
    assert "\n" not in msg and "python -m jobs.s3a_jars" in msg and "s3://lake/wh" in msg


# -- bad endpoints and keys: one line, exit 2, in seconds -------------------------------------------


def _s3_conf(tmp_path: Path, endpoint: str, key_id: str, secret: str, prefix: str) -> Path:
    conf = tmp_path / "conf.yaml"
    conf.write_text(
        f"home: {tmp_path}\nwarehouse: s3://lake/{prefix}/warehouse\n"
        f"audited_warehouse: s3://lake/{prefix}/company\n"
        "storage:\n  storage_options:\n"
        f"    AWS_ENDPOINT_URL: {endpoint}\n    AWS_REGION: us-east-1\n"
        f"    AWS_ACCESS_KEY_ID: {key_id}\n    AWS_SECRET_ACCESS_KEY: {secret}\n",
        encoding="utf-8",
    )
    return conf


def test_an_endpoint_that_does_not_answer_is_one_line_exit_2_in_seconds(tmp_path, capsys):
    from jobs.cli import main

    endpoint = f"http://127.0.0.1:{_free_port()}"  # nothing listens there
    conf = _s3_conf(tmp_path, endpoint, S3_KEY_ID, S3_SECRET, "nowhere")
    t0 = time.monotonic()
    assert main(["tables", "--conf", str(conf), "--quiet"]) == 2
    took = time.monotonic() - t0
    out = capsys.readouterr()
    err = out.err.strip().splitlines()
    assert len(err) == 1, err
    assert "warehouse s3://lake/nowhere/warehouse" in err[0] and endpoint in err[0]
    assert "does not answer" in err[0]
    assert S3_SECRET not in out.err + out.out and S3_KEY_ID not in out.err + out.out
    assert took < 30, took


@pytest.fixture(scope="module")
def moto_with_auth():
    """A moto server that checks signatures: an IAM user's key works, any other is refused."""
    boto3 = pytest.importorskip("boto3")
    proc, endpoint = start_moto({"INITIAL_NO_AUTH_ACTION_COUNT": "4"})
    try:
        iam = boto3.client(
            "iam",
            endpoint_url=endpoint,
            aws_access_key_id="bootstrap",
            aws_secret_access_key="bootstrap",
            region_name="us-east-1",
        )
        iam.create_user(UserName="compliance")
        key = iam.create_access_key(UserName="compliance")["AccessKey"]
        iam.put_user_policy(
            UserName="compliance",
            PolicyName="all",
            PolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
                }
            ),
        )
        boto3.client(
            "s3",
            endpoint_url=endpoint,
            aws_access_key_id=key["AccessKeyId"],
            aws_secret_access_key=key["SecretAccessKey"],
            region_name="us-east-1",
        ).create_bucket(Bucket="lake")
        yield endpoint, key["AccessKeyId"], key["SecretAccessKey"]
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_wrong_credentials_are_one_line_exit_2_naming_the_store(tmp_path, capsys, moto_with_auth):
    from jobs.cli import main

    endpoint, key_id, good = moto_with_auth
    right = object_store.resolve(
        {"AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": key_id, "AWS_SECRET_ACCESS_KEY": good},
        env={},
    )
    object_store.probe("warehouse", "s3://lake/wh", right)  # the right key passes the probe
    for who, key, secret, code in (
        ("wrong secret", key_id, S3_SECRET, "SIGNATURE_DOES_NOT_MATCH"),
        ("unknown key", S3_KEY_ID, S3_SECRET, "INVALID_ACCESS_KEY_ID"),
    ):
        conf = _s3_conf(tmp_path, endpoint, key, secret, "locked")
        t0 = time.monotonic()
        assert main(["tables", "--conf", str(conf), "--quiet"]) == 2, who
        assert time.monotonic() - t0 < 30, who
        out = capsys.readouterr()
        err = out.err.strip().splitlines()
        assert len(err) == 1, (who, err)
        assert "warehouse s3://lake/locked/warehouse" in err[0] and endpoint in err[0], who
        assert "refused the credentials" in err[0] and code in err[0], who
        for secret_text in (S3_SECRET, good, key):
            assert secret_text not in out.err + out.out, who


# -- the store contract on s3a:// -------------------------------------------------------------------


@pytest.fixture(params=["delta-rs", "spark"])
def s3_store(request, spark, s3) -> TableStore:
    if request.param == "spark":
        request.getfixturevalue("delta_spark")
    root = f"s3a://{s3.bucket}/{uuid.uuid4().hex[:8]}/warehouse"
    st = TableStore(spark, root, engine=request.param, storage_options=s3.store.delta_rs_options())
    assert st.engine == request.param
    return st


def _rows(df) -> list[tuple]:
    return sorted(tuple(r) for r in df.collect())


def test_store_contract_on_object_storage(spark, s3, s3_store):
    st = s3_store
    assert not st.exists("people")
    v0 = st.append("people", spark.createDataFrame([(1, "ann"), (2, "bob")], SCHEMA))
    assert v0 == 0
    time.sleep(1.1)
    from datetime import datetime, timezone

    between = datetime.now(timezone.utc)
    time.sleep(1.1)
    assert st.upsert("people", spark.createDataFrame([(2, "bea"), (3, "cy")], SCHEMA), ["id"]) == 1
    assert st.delete_where("people", F.col("id") == 1) == 2
    assert _rows(st.read("people")) == [(2, "bea"), (3, "cy")]
    assert _rows(st.read("people", version=0)) == [(1, "ann"), (2, "bob")]  # time travel
    assert _rows(st.read("people", version=1)) == [(1, "ann"), (2, "bea"), (3, "cy")]
    assert _rows(st.read("people", as_of=between)) == [(1, "ann"), (2, "bob")]
    st.append("crm.customers", spark.createDataFrame([(9, "zed")], SCHEMA))
    assert st.list_tables() == ["crm.customers", "people"]
    assert st.version("people") == 2
    # the data really is on the endpoint, under the warehouse prefix, with its Delta log
    prefix = st.root.split(f"{s3.bucket}/", 1)[1]
    keys = [
        o["Key"]
        for page in s3.client.get_paginator("list_objects_v2").paginate(
            Bucket=s3.bucket, Prefix=prefix
        )
        for o in page.get("Contents", [])
    ]
    assert any(k.startswith(f"{prefix}/people/_delta_log/") for k in keys)
    assert any(k.startswith(f"{prefix}/people/") and k.endswith(".parquet") for k in keys)
    for k in keys:  # no commit (commitInfo, table properties) holds a credential
        body = s3.client.get_object(Bucket=s3.bucket, Key=k)["Body"].read()
        assert S3_SECRET.encode() not in body and S3_KEY_ID.encode() not in body, k


# -- the whole demo nightly on the endpoint (slow) --------------------------------------------------

DEMO_DATE = "2026-11-22"


def _upload(client, bucket: str, folder: Path, prefix: str) -> int:
    n = 0
    for f in sorted(folder.rglob("*")):
        if f.is_file():
            client.upload_file(str(f), bucket, f"{prefix}/{f.relative_to(folder).as_posix()}")
            n += 1
    return n


def _texts_holding(spark, store: TableStore, secrets: list[str]) -> list[str]:
    """Tables of ``store`` with a row whose text (every column as JSON) holds a secret."""
    hits = []
    for name in store.list_tables():
        df = store.read(name)
        text = F.to_json(F.struct(*[F.col(f"`{c}`") for c in df.columns]))
        cond = None
        for s in secrets:
            c = F.instr(text, s) > 0
            cond = c if cond is None else cond | c
        if df.filter(cond).limit(1).count():
            hits.append(name)
    return hits


@pytest.mark.slow
def test_demo_nightly_on_object_storage_time_travel_and_no_secret_anywhere(
    spark, s3, tmp_path, capfd
):
    from jobs.cli import main
    from jobs.config.settings import load_config
    from jobs.demo import generate_demo

    home = tmp_path / "home"
    generate_demo(home, as_of=date.fromisoformat(DEMO_DATE))
    prefix = f"demo-{uuid.uuid4().hex[:6]}"
    assert _upload(s3.client, s3.bucket, home / "company", f"{prefix}/company") > 0
    import shutil

    shutil.rmtree(home / "company")  # the audited company lives on the endpoint only
    conf = _s3_conf(home, s3.endpoint, S3_KEY_ID, S3_SECRET, prefix)
    args = ["--conf", str(conf), "--run-date", DEMO_DATE]
    t0 = time.monotonic()
    code = main(["nightly", *args])
    print(f"demo nightly on the S3 endpoint: {time.monotonic() - t0:.1f} s")  # -rP
    assert code in (0, 1), code  # 1: findings (the demo has them), never a failed step
    opts = s3.store.delta_rs_options()
    product = TableStore(spark, f"s3a://lake/{prefix}/warehouse", storage_options=opts)
    audited = TableStore(spark, f"s3a://lake/{prefix}/company", storage_options=opts)
    names = product.list_tables()
    for t in ("lineage_edges", "run_manifest", "rejected_inputs"):
        assert t in names, names
    failed = product.read("run_manifest").filter(F.col("status") != "ok")
    assert failed.count() == 0, _rows(failed.select("step", "status"))
    assert "crm.customers" in audited.list_tables()
    # time travel on the endpoint: the first version of lineage_edges is readable and the CLI's
    # --as-of answers (today: the lineage as it is; before any lineage: one line, exit 2)
    assert product.read("lineage_edges", version=0).count() > 0
    capfd.readouterr()
    down = ["lineage", "down", "crm.customers.email", "--depth", "2", *args, "--quiet"]
    assert main(down) == 0
    now = capfd.readouterr().out
    assert "staging.crm_customers.email" in now
    assert main([*down, "--as-of", date.today().isoformat()]) == 0
    assert capfd.readouterr().out.splitlines()[1:] == now.splitlines()[1:]
    assert main([*down, "--as-of", "2001-01-01"]) == 2
    printed = capfd.readouterr()
    # the secret grep: everything printed, every file under home (reports, keys, inputs),
    # every object on the endpoint (data files, Delta logs) and every table row
    secrets = [S3_SECRET]
    assert not [s for s in secrets if s in printed.out + printed.err]
    files = [p for p in home.rglob("*") if p.is_file() and p.name != "conf.yaml"]
    assert any(p.suffix == ".html" for p in files)  # the reports (logs/ holds only failures)
    leaked = [str(p) for p in files if any(s.encode() in p.read_bytes() for s in secrets)]
    assert not leaked
    objs = [
        o["Key"]
        for page in s3.client.get_paginator("list_objects_v2").paginate(
            Bucket=s3.bucket, Prefix=prefix
        )
        for o in page.get("Contents", [])
    ]
    assert any("/_delta_log/" in k for k in objs)
    on_s3 = [
        k
        for k in objs
        if any(
            s.encode() in s3.client.get_object(Bucket=s3.bucket, Key=k)["Body"].read()
            for s in secrets
        )
    ]
    assert not on_s3
    assert not _texts_holding(spark, product, secrets)
    assert not _texts_holding(spark, audited, secrets)
    assert S3_SECRET not in repr(load_config(conf))
