"""Configuration inputs are checked before the first step, every problem at once.

These run without Spark: the preflight happens before the session is built.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

from jobs.cli import main
from jobs.config.preflight import check_inputs
from jobs.config.settings import load_config

CATALOG = """\
assets:
  - name: crm.customers
    kind: table
    owner: crm-team
    zone: source
    columns:
      - {name: email, type: string, data_category: user.contact.email}
  - name: my-project.sales.orders
    kind: table
    owner: bi-team
    zone: source
  - name: marts.daily
    kind: table
    owner: bi-team
    zone: lake
"""
POLICIES = """\
zones:
  source: operational source systems
  bi: dashboards
policies:
  - name: email-not-in-bi
    data_categories: [user.contact.email]
    allowed_zones: [source]
"""


def _home(root: Path, *, annotations: str | None = None, policies: str = POLICIES) -> Path:
    inputs = root / "inputs"
    inputs.mkdir(parents=True)
    (inputs / "catalog.yaml").write_text(CATALOG, encoding="utf-8")
    (inputs / "policies.yaml").write_text(policies, encoding="utf-8")
    if annotations is not None:
        (inputs / "annotations.yaml").write_text(textwrap.dedent(annotations), encoding="utf-8")
    conf = root / "conf.yaml"
    conf.write_text(f"home: {root}\n", encoding="utf-8")
    return conf


def test_every_problem_of_every_input_is_reported_at_once(tmp_path):
    conf = _home(tmp_path, annotations="objects:\n  user: erased\n")
    got = check_inputs(load_config(conf))
    inputs = tmp_path / "inputs"
    assert got.problems == [
        f"{inputs / 'annotations.yaml'}: objects.user: expected one of "
        "directly|by_any|by_x_only|short_ttl|not_deleted, got 'erased'",
        f"{inputs / 'catalog.yaml'}: assets[1].name: 'my-project.sales.orders' is not usable as a "
        "table name (part 'my-project': expected lower-case letters, digits and _ only)",
        f"{inputs / 'catalog.yaml'}: assets[2].zone: expected a zone declared in "
        f"{inputs / 'policies.yaml'}, got 'lake'",
    ]
    assert got.notes == []


def test_an_absent_optional_input_is_one_note_and_no_problem(tmp_path):
    conf = _home(tmp_path, policies=POLICIES.replace("bi: dashboards", "bi: dashboards\n  lake: x"))
    text = conf.parent / "inputs" / "catalog.yaml"
    text.write_text(CATALOG.replace("my-project.sales.orders", "sales.orders"), encoding="utf-8")
    got = check_inputs(load_config(conf))
    assert got.problems == []
    assert got.notes == [
        f"inputs.annotations: {tmp_path / 'inputs' / 'annotations.yaml'} does not exist; "
        "treated as empty (the checks that need it are not run)"
    ]


def test_nightly_stops_before_any_step_with_one_line_naming_every_problem(tmp_path, capsys):
    conf = _home(tmp_path)
    (tmp_path / "inputs" / "policies.yaml").unlink()
    code = main(["nightly", "--conf", str(conf), "--run-date", "2026-11-21", "--quiet"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1
    assert err[0].startswith("compliance: error: 2 configuration problems: ")
    assert "policies.yaml: file not found" in err[0] and "'my-project.sales.orders'" in err[0]
    assert not (tmp_path / "warehouse").exists()
