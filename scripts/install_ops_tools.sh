#!/usr/bin/env bash
# Installs the operations checks' tools that cannot live in the project's virtual environment (.ci/run calls
# this; `make check-ops` too). The Python ones that can (hadolint, kubernetes-validate, check-jsonschema,
# detect-secrets, bandit) come with the [ops] extra of `make install-dev`.
#   promtool             Debian's `prometheus` package (needs root; ~10 s)
#   kubectl (kustomize)  on this machine image already; Debian's kubernetes-client is too old for components
#   checkov              own virtual environment: its pins (packaging 23, networkx 2) clash with ours (~30 s)
#   Airflow              own virtual environment: it pins an older FastAPI than the service (~45 s)
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
TOOLS=${REALEYES_OPS_TOOLS:-build/ops-tools}
CHECKOV_VERSION=3.3.30
AIRFLOW_VERSION=3.3.2

if ! command -v promtool >/dev/null; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "promtool missing: install Debian's 'prometheus' package (apt-get install prometheus)" >&2
    else
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null
    fi
fi
command -v kubectl >/dev/null || echo "kubectl missing: the Kubernetes tests need it for kustomize" >&2

venv_with() {  # venv_with DIR CHECK-IMPORT PACKAGE...
    local dir=$1 check=$2
    shift 2
    if [ -x "$dir/bin/python" ] && "$dir/bin/python" -c "$check" 2>/dev/null; then
        return
    fi
    rm -rf "$dir"
    "$PYTHON" -m venv "$dir"
    # (This machine's pip configuration names local indexes that may be absent: drop that noise.)
    "$dir/bin/python" -m pip install --quiet "$@" 2> >(grep -v "is ignored: it is neither" >&2)
}
venv_with "$TOOLS/checkov" \
    "import importlib.metadata as m; assert m.version('checkov') == '$CHECKOV_VERSION'" "checkov==$CHECKOV_VERSION"
venv_with "$TOOLS/airflow" \
    "import importlib.metadata as m; assert m.version('apache-airflow') == '$AIRFLOW_VERSION'" \
    "apache-airflow==$AIRFLOW_VERSION"
