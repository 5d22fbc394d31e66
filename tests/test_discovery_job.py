"""``compliance catalog discover`` on a small warehouse and on the demo warehouse."""

from __future__ import annotations

import shutil
from datetime import date

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from deltalake import write_deltalake

from audits.discovery.sampling import collect_counts, detector_counts
from jobs.cli import main
from jobs.config.catalog import load_catalog

RUN_DATE = "2026-11-22"
PEOPLE = {
    "email": ["ada.smith@example.com", "ben.kim@example.org", "cleo@example.net"],
    "phone": ["+1-555-0100001", "+44 20 7946 0958", "+49 30 1234567"],
    "iban": ["DE89370400440532013000", "GB82WEST12345698765432", "DE89370400440532013000"],
    "card": ["4111111111111111", "5500000000000004", "378282246310005"],
    "ip": ["10.0.0.1", "2001:db8::1", "192.168.1.20"],
    "born": ["1980-04-17", "1991-12-01", "1966-07-30"],
    "full_name": ["Ada Smith", "Ben Kim", "Cleo Garcia"],
    "zip": ["10115", "94105", "75001"],
    "ref_no": ["4111111111111112", "1234567812345678", "9999999999999991"],
}


def test_detector_counts_come_back_as_counts_only(spark):
    df = spark.createDataFrame(
        [("ada@example.com", "x"), ("ben@example.com", None), ("nope", "y")], "a string, b string"
    )
    counts = collect_counts(
        detector_counts(df, {"a": "string", "b": "string"}, rows=2, today=date(2026, 11, 22))
    )
    assert counts[""]["_rows"] == (2, 2)
    assert counts["a"]["email"] == (2, 2)
    assert counts["b"]["email"] == (0, 1)
    assert set(counts["a"]) == {
        "email",
        "phone",
        "iban",
        "card",
        "ipv4",
        "ipv6",
        "date_of_birth",
        "person_name",
        "postal_code",
    }


@pytest.fixture
def small_home(tmp_path):
    company = tmp_path / "company"
    write_deltalake(str(company / "crm" / "people"), pa.table(PEOPLE))
    (company / "app" / "events").mkdir(parents=True)
    pq.write_table(
        pa.table({"user_id": [1, 2], "page_url": ["/a", "/b"]}),
        company / "app" / "events" / "part-0.parquet",
    )
    (company / "app" / "broken").mkdir(parents=True)
    (company / "app" / "broken" / "part-0.parquet").write_bytes(b"not a parquet file")
    conf = tmp_path / "conf.yaml"
    conf.write_text(f"home: {tmp_path}\n", encoding="utf-8")
    return tmp_path, conf


def test_discover_a_small_warehouse(spark, small_home, capsys):
    home, conf = small_home
    out = home / "draft.yaml"
    args = ["catalog", "discover", "--conf", str(conf), "--out", str(out), "--quiet"]
    assert main([*args, "--run-date", RUN_DATE]) == 0
    text = out.read_text(encoding="utf-8")
    printed = capsys.readouterr()
    for col in PEOPLE.values():  # no sampled value in the draft or the output
        for value in col:
            assert value not in text and value not in printed.out + printed.err
    cat = load_catalog(out)  # the draft is a catalog
    people = {c.name: c.data_category for c in cat.asset("crm.people").columns}
    assert people == {
        "email": "user.contact.email",
        "phone": "user.contact.phone_number",
        "iban": "user.financial.bank_account",
        "card": "user.financial.card",
        "ip": "user.device.ip_address",
        "born": "user.demographic.date_of_birth",
        "full_name": "user.name",
        "zip": "user.contact.address.postal_code",
        "ref_no": None,  # 16 digits failing Luhn are not cards
    }
    assert cat.asset("app.events").column("user_id").is_identifier
    doc = yaml.safe_load(text)
    assets = {a["name"]: a for a in doc["assets"]}
    card = next(c for c in assets["crm.people"]["columns"] if c["name"] == "card")
    assert {"source": "values", "detector": "card", "matched": 3, "sampled": 3} in card[
        "discovery"
    ]["evidence"]
    assert assets["crm.people"]["discovery"]["sampled_rows"] == 3
    broken = assets["app.broken"]["discovery"]
    assert broken["read"] is False and broken["reason"].startswith("unreadable: ")
    assert assets["app.events"]["discovery"]["sources"] == ["parquet"]
    assert "not read: app.broken" in printed.out


def test_reviewed_entries_survive_a_second_discovery(spark, small_home):
    home, conf = small_home
    out = home / "draft.yaml"
    args = ["catalog", "discover", "--conf", str(conf), "--out", str(out), "--quiet"]
    assert main([*args, "--table", "crm.people", "--run-date", RUN_DATE]) == 0
    doc = yaml.safe_load(out.read_text(encoding="utf-8"))
    zip_col = next(c for c in doc["assets"][0]["columns"] if c["name"] == "zip")
    zip_col["data_category"] = None
    zip_col["discovery"]["reviewed"] = True
    out.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    assert main([*args, "--table", "crm.people", "--run-date", RUN_DATE]) == 0
    again = yaml.safe_load(out.read_text(encoding="utf-8"))
    assert next(c for c in again["assets"][0]["columns"] if c["name"] == "zip") == zip_col


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--table", "crm.nobody"], "no table crm.nobody under"),
        (["--sample-rows", "0"], "--sample-rows must be at least 1"),
        (["--sample-fraction", "2"], "--sample-fraction must be in (0, 1]"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(small_home, capsys, extra, message):
    home, conf = small_home
    code = main(["catalog", "discover", "--conf", str(conf), "--quiet", *extra])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and message in err


def demo_conf_without_catalog(demo_run, tmp_path):
    """A config of the demo home whose catalog does not exist (the home is not changed)."""
    conf = tmp_path / "conf.yaml"
    conf.write_text(
        f"home: {demo_run.home}\ninputs:\n  catalog: {tmp_path / 'absent' / 'catalog.yaml'}\n",
        encoding="utf-8",
    )
    return conf


def test_discover_the_demo_warehouse_without_its_catalog(demo_run, tmp_path):
    conf, out = demo_conf_without_catalog(demo_run, tmp_path), tmp_path / "draft.yaml"
    tables = ["crm.customers", "billing.payment_methods", "app.sessions", "ads.lookalike_seed"]
    picks = [a for t in tables for a in ("--table", t)]
    args = ["catalog", "discover", "--conf", str(conf), "--out", str(out), "--quiet", *picks]
    assert main([*args, "--run-date", RUN_DATE]) == 0
    truth = load_catalog(demo_run.home / "inputs" / "catalog.yaml")
    draft = load_catalog(out)
    for t in tables:
        got = {c.name: c.data_category for c in draft.asset(t).columns}
        assert got == {c.name: c.data_category for c in truth.asset(t).columns}, t
    assert draft.asset("ads.lookalike_seed").column("customer_id_sha256").hash == "sha256_hex"
    doc = yaml.safe_load(out.read_text(encoding="utf-8"))
    crm = next(a for a in doc["assets"] if a["name"] == "crm.customers")
    email = next(c for c in crm["columns"] if c["name"] == "email")
    values = [e for e in email["discovery"]["evidence"] if e["source"] == "values"]
    assert values and values[0]["detector"] == "email"
    assert values[0]["matched"] == values[0]["sampled"] == crm["discovery"]["sampled_rows"]
    assert "@example.com" not in out.read_text(encoding="utf-8")


def test_discovery_keeps_the_demo_catalog_as_it_is(demo_run, tmp_path):
    home = tmp_path / "home"
    shutil.copytree(
        demo_run.home / "inputs", home / "inputs", ignore=shutil.ignore_patterns("*l*s")
    )
    conf = tmp_path / "conf.yaml"
    conf.write_text(
        f"home: {home}\naudited_warehouse: {demo_run.home / 'company'}\n"
        f"warehouse: {demo_run.home / 'warehouse'}\n",
        encoding="utf-8",
    )
    out = tmp_path / "draft.yaml"
    args = ["catalog", "discover", "--conf", str(conf), "--out", str(out), "--quiet"]
    assert main([*args, "--table", "crm.customers", "--run-date", RUN_DATE]) == 0
    before = yaml.safe_load((home / "inputs" / "catalog.yaml").read_text(encoding="utf-8"))
    after = yaml.safe_load(out.read_text(encoding="utf-8"))
    old = next(a for a in before["assets"] if a["name"] == "crm.customers")
    new = next(a for a in after["assets"] if a["name"] == "crm.customers")
    assert new["columns"] == old["columns"]
    assert [a["name"] for a in after["assets"]] == [a["name"] for a in before["assets"]]


def test_the_spark_catalog_is_read_when_asked(spark, small_home):
    home, conf = small_home
    spark.createDataFrame([("ada@example.com", 1)], "contact_email string, n int").write.option(
        "path", str(home / "external" / "signups")
    ).saveAsTable("discover_signups")
    try:
        out = home / "draft.yaml"
        args = ["catalog", "discover", "--conf", str(conf), "--out", str(out), "--quiet"]
        assert main([*args, "--spark-catalog", "--run-date", RUN_DATE]) == 0
    finally:
        spark.sql("DROP TABLE IF EXISTS discover_signups")
    doc = yaml.safe_load(out.read_text(encoding="utf-8"))
    asset = next(a for a in doc["assets"] if a["name"] == "default.discover_signups")
    assert asset["discovery"]["sources"] == ["spark_catalog"]
    email = asset["columns"][0]
    assert email["data_category"] == "user.contact.email"
    assert {"source": "values", "detector": "email", "matched": 1, "sampled": 1} in email[
        "discovery"
    ]["evidence"]
