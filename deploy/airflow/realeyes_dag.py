"""RealEyes model upkeep for teams that schedule with Apache Airflow (3.x; 2.7+ works too).

Two DAGs call the same commands as the Kubernetes CronJobs (docs/OPERATIONS.md, "Retrain"):

* ``realeyes_drift_retrain`` (daily): ``realeyes drift check``; only when it reports drift (exit 1) does
  ``realeyes retrain`` run. No drift (exit 0) skips the retrain; any other exit code fails the run.
* ``realeyes_data_refresh`` (every 14 days): ``realeyes retrain`` on the data folders and the feedback
  gathered since, whatever the drift. Retrain promotes the candidate only if it beats the promoted model on
  the same held-out data, so a scheduled run never makes things worse.

The commands run through ``REALEYES_CLI`` (an Airflow Variable, default ``realeyes``): on a worker with
RealEyes installed leave it; otherwise use e.g. ``docker run --rm --env-file /etc/realeyes.env realeyes-train``.
``REALEYES_RETRAIN_ARGS`` (a Variable) holds the retrain options, e.g.
``--set prepare.folders=/data/new --set prepare.no_shared=true`` (``--task localizer`` for another model).
The workers need the same REALEYES_* settings (database URL, models folder) as the service.
"""

from __future__ import annotations

from datetime import datetime, timedelta

try:  # Airflow 3
    from airflow.providers.standard.operators.bash import BashOperator
    from airflow.sdk import DAG
except ImportError:  # Airflow 2.7+
    from airflow import DAG  # type: ignore[no-redef]
    from airflow.operators.bash import BashOperator  # type: ignore[no-redef]

CLI = "{{ var.value.get('REALEYES_CLI', 'realeyes') }}"
RETRAIN_ARGS = "{{ var.value.get('REALEYES_RETRAIN_ARGS', '') }}"
# A scratch folder per run on the Airflow worker; the promoted bundle goes to REALEYES_MODELS_DIR.
WORKDIR = "/tmp/realeyes-retrain/{{ run_id | replace(':', '-') | replace('+', '-') }}"  # noqa: S108
NO_DRIFT = 99  # the drift check's "no drift" exit, remapped so Airflow marks the task skipped

DEFAULT_ARGS = {
    "owner": "realeyes",
    "retries": 1,
    "retry_delay": timedelta(minutes=10),
}

with DAG(
    dag_id="realeyes_drift_retrain",
    description="Daily drift check; retrain only when live inputs drifted from the promoted model's reference.",
    schedule="30 3 * * *",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["realeyes"],
) as drift_retrain:
    drift_check = BashOperator(
        task_id="drift_check",
        # exit 1 = drift -> success, so the retrain runs; exit 0 = no drift -> skipped; anything else fails.
        bash_command=(
            f"{CLI} drift check; status=$?; "
            f'if [ "$status" -eq 1 ]; then exit 0; elif [ "$status" -eq 0 ]; then exit {NO_DRIFT}; '
            'else exit "$status"; fi'
        ),
        skip_on_exit_code=NO_DRIFT,
        retries=0,
    )
    retrain = BashOperator(
        task_id="retrain",
        bash_command=f"{CLI} retrain --workdir {WORKDIR} {RETRAIN_ARGS}",
        execution_timeout=timedelta(hours=4),
    )
    drift_check >> retrain

with DAG(
    dag_id="realeyes_data_refresh",
    description="Every two weeks: retrain on fresh data and feedback; promote only a better candidate.",
    schedule=timedelta(days=14),
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["realeyes"],
) as data_refresh:
    refresh_retrain = BashOperator(
        task_id="retrain",
        bash_command=f"{CLI} retrain --workdir {WORKDIR} {RETRAIN_ARGS}",
        execution_timeout=timedelta(hours=4),
    )
    # Recompute drift against whichever model is promoted now, so the dashboard reflects the new reference.
    drift_after = BashOperator(
        task_id="drift_check",
        bash_command=f"{CLI} drift check || [ $? -eq 1 ]",
    )
    refresh_retrain >> drift_after
