"""Airflow DAG running `compliance nightly` every night (copy into your DAGs folder).

The nightly run is resumable and idempotent for its run date, so Airflow retries are safe: a retry
skips the steps already completed for that date. Exit code 1 (findings, with --fail-on-findings)
fails the task so the on-call is alerted; 2 is a configuration error; 3 a job failure.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow import DAG
from airflow.operators.bash import BashOperator

COMPLIANCE = "/opt/compliance/.venv/bin/compliance"  # where the project is installed
CONF = "/etc/compliance/prod.yaml"

with DAG(
    dag_id="compliance_nightly",
    schedule="30 2 * * *",  # 02:30 UTC, after the nightly ETL has written its logs
    start_date=datetime(2026, 11, 1),
    catchup=True,  # backfills: each run date is processed on its own
    max_active_runs=1,  # the warehouse lock refuses concurrent runs anyway
    default_args={"retries": 2, "retry_delay": timedelta(minutes=15)},
    tags=["compliance", "gdpr"],
) as dag:
    BashOperator(
        task_id="nightly",
        bash_command=f"{COMPLIANCE} nightly --conf {CONF} --run-date {{{{ ds }}}} --fail-on-findings",
    )
