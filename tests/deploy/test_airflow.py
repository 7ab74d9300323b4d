"""The Airflow DAGs load in a real Airflow (its own virtual environment) with the expected task graphs, and
the drift check's exit codes map to run / skip / fail as documented."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from deploy.tools import DEPLOY, airflow_python, explain, run, tool

DAG_FILE = DEPLOY / "airflow" / "realeyes_dag.py"
PROBE = """
import json, sys
try:
    from airflow.dag_processing.dagbag import DagBag  # Airflow 3
except ImportError:
    from airflow.models.dagbag import DagBag
bag = DagBag(dag_folder=sys.argv[1])
dags = {
    dag_id: {
        "schedule": str(getattr(dag, "schedule", None)),
        "catchup": dag.catchup,
        "downstream": {task.task_id: sorted(task.downstream_task_ids) for task in dag.tasks},
        "commands": {task.task_id: task.bash_command for task in dag.tasks},
        "skip_codes": {task.task_id: list(task.skip_on_exit_code or []) for task in dag.tasks},
    }
    for dag_id, dag in bag.dags.items()
}
print(json.dumps({"errors": {k: str(v) for k, v in bag.import_errors.items()}, "dags": dags}))
"""


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    home = tmp_path_factory.mktemp("airflow-home")
    probe = home / "probe.py"
    probe.write_text(PROBE)
    result = run(airflow_python(), str(probe), str(DAG_FILE), env={"AIRFLOW_HOME": str(home)})
    assert result.returncode == 0, explain(result)
    loaded: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return loaded


def test_dags_load_without_import_errors(loaded: dict[str, Any]) -> None:
    assert loaded["errors"] == {}
    assert set(loaded["dags"]) == {"realeyes_drift_retrain", "realeyes_data_refresh"}


def test_drift_check_gates_the_retrain(loaded: dict[str, Any]) -> None:
    dag = loaded["dags"]["realeyes_drift_retrain"]
    assert dag["downstream"] == {"drift_check": ["retrain"], "retrain": []}
    assert dag["schedule"] == "30 3 * * *"
    assert dag["catchup"] is False
    assert " drift check" in dag["commands"]["drift_check"]
    assert " retrain --workdir " in dag["commands"]["retrain"]


def test_data_refresh_retrains_every_two_weeks(loaded: dict[str, Any]) -> None:
    dag = loaded["dags"]["realeyes_data_refresh"]
    assert dag["downstream"] == {"retrain": ["drift_check"], "drift_check": []}
    assert dag["schedule"] == "14 days, 0:00:00"


@pytest.mark.parametrize(("drift_exit", "task_exit"), [(1, 0), (0, 99), (2, 2)])
def test_drift_exit_codes_map_to_run_skip_or_fail(
    loaded: dict[str, Any], tmp_path: Path, drift_exit: int, task_exit: int
) -> None:
    """Drift (1) lets the retrain run, no drift (0) becomes the skip code, an error (2) fails the task."""
    dag = loaded["dags"]["realeyes_drift_retrain"]
    fake_cli = tmp_path / "realeyes"
    fake_cli.write_text(f"#!/bin/sh\nexit {drift_exit}\n")
    fake_cli.chmod(0o755)
    command = dag["commands"]["drift_check"].replace("{{ var.value.get('REALEYES_CLI', 'realeyes') }}", str(fake_cli))
    assert str(fake_cli) in command
    result = run(tool("bash"), "-c", command)
    assert result.returncode == task_exit, explain(result)
    assert 99 in dag["skip_codes"]["drift_check"]
