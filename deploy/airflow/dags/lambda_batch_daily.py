"""lambda_batch_daily: the batch layer of the lambdaops pipeline, once a day.

    spark_batch  -> dbt_run -> dbt_test -> lambdaops_check

spark_batch  submits deploy/spark/batch-app.yaml (raw Parquet -> Iceberg ->
             warehouse raw.orders) and waits for the SparkApplication.
dbt_run      builds staging, intermediate and marts (deploy/dbt) against the
             target in the Airflow Variable batch_target (postgres|snowflake).
dbt_test     runs the schema and singular tests.
lambdaops_check
             `lambdaops check` on the reconciliation config
             (deploy/airflow/lambdaops-reconcile.yaml): fails the run when the
             speed (ClickHouse) and batch (warehouse) hourly totals disagree.

The DAG folder comes from git-sync (the chart clones the repository and
points dags_folder at deploy/airflow/dags), so the rest of the repository
-- deploy/spark, deploy/dbt -- is next to it in the same checkout.
"""

import os
from datetime import datetime, timedelta

from airflow import DAG
from airflow.models import Variable
from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
from airflow.providers.cncf.kubernetes.operators.spark_kubernetes import SparkKubernetesOperator
from kubernetes.client import models as k8s

HERE = os.path.dirname(os.path.abspath(__file__))
DEPLOY = os.path.normpath(os.path.join(HERE, "..", ".."))
NAMESPACE = "orchestration"

# Images, pinned (never latest).
DBT_IMAGE = "ghcr.io/dbt-labs/dbt-postgres:1.8.2"
DBT_SNOWFLAKE_IMAGE = "ghcr.io/dbt-labs/dbt-snowflake:1.8.3"
GIT_SYNC_IMAGE = "registry.k8s.io/git-sync/git-sync:v4.1.0"
LAMBDAOPS_IMAGE = "ghcr.io/lambdaops/lambdaops:0.9.0"
GIT_REPO = os.environ.get("LAMBDAOPS_GIT_REPO", "https://github.com/lambdaops/lambdaops.git")

RESOURCES = k8s.V1ResourceRequirements(
    requests={"cpu": "250m", "memory": "512Mi"},
    limits={"cpu": "1", "memory": "1Gi"},
)


def secret_env(name, secret, key):
    """An environment variable from a Kubernetes Secret (never a value)."""
    return k8s.V1EnvVar(
        name=name,
        value_from=k8s.V1EnvVarSource(
            secret_key_ref=k8s.V1SecretKeySelector(name=secret, key=key)))


def optional_secret_env(name, secret, key):
    """Like secret_env, but the pod starts without the Secret or the key."""
    return k8s.V1EnvVar(
        name=name,
        value_from=k8s.V1EnvVarSource(
            secret_key_ref=k8s.V1SecretKeySelector(name=secret, key=key, optional=True)))


# dbt pods get the repository by a one-shot git-sync init container.
REPO_VOLUME = k8s.V1Volume(name="repo", empty_dir=k8s.V1EmptyDirVolumeSource())
REPO_MOUNT = k8s.V1VolumeMount(name="repo", mount_path="/git")
GIT_CLONE = k8s.V1Container(
    name="git-sync",
    image=GIT_SYNC_IMAGE,
    args=["--repo=" + GIT_REPO, "--ref=main", "--depth=1", "--one-time",
          "--root=/git", "--link=repo"],
    volume_mounts=[REPO_MOUNT],
    resources=RESOURCES,
)
DBT_DIR = "/git/repo/deploy/dbt"


def dbt_task(task_id, command):
    target = "{{ var.value.get('batch_target', 'postgres') }}"
    # `image` is a templated field: the adapter image follows batch_target.
    image = ("{{ '%s' if var.value.get('batch_target', 'postgres') == 'snowflake' else '%s' }}"
             % (DBT_SNOWFLAKE_IMAGE, DBT_IMAGE))
    return KubernetesPodOperator(
        task_id=task_id,
        name=task_id.replace("_", "-"),
        namespace=NAMESPACE,
        image=image,
        cmds=["dbt"],
        arguments=[command, "--project-dir", DBT_DIR, "--profiles-dir", DBT_DIR,
                   "--target", target],
        env_vars=[
            k8s.V1EnvVar(name="DBT_TARGET", value=target),
            secret_env("DBT_PASSWORD", "postgres-credentials", "DBT_PASSWORD"),
            # batch_target: snowflake (optional Secret snowflake-credentials)
            optional_secret_env("SNOWFLAKE_ACCOUNT", "snowflake-credentials", "SNOWFLAKE_ACCOUNT"),
            optional_secret_env("SNOWFLAKE_USER", "snowflake-credentials", "SNOWFLAKE_USER"),
        ],
        init_containers=[GIT_CLONE],
        volumes=[REPO_VOLUME],
        volume_mounts=[REPO_MOUNT],
        container_resources=RESOURCES,
        get_logs=True,
        on_finish_action="delete_succeeded_pod",
        startup_timeout_seconds=300,
    )


with DAG(
    dag_id="lambda_batch_daily",
    description="Spark batch -> dbt run -> dbt test -> lambdaops check",
    schedule="30 2 * * *",              # after the day's raw files are closed (UTC)
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=timedelta(hours=4),
    default_args={
        "retries": 2,
        "retry_delay": timedelta(minutes=5),
        "execution_timeout": timedelta(hours=2),
    },
    template_searchpath=[os.path.join(DEPLOY, "spark")],
    tags=["lambdaops", "batch"],
) as dag:
    spark_batch = SparkKubernetesOperator(
        task_id="spark_batch",
        namespace="processing",
        application_file="batch-app.yaml",
        get_logs=True,
        delete_on_termination=True,
    )

    dbt_run = dbt_task("dbt_run", "run")
    dbt_test = dbt_task("dbt_test", "test")

    lambdaops_check = KubernetesPodOperator(
        task_id="lambdaops_check",
        name="lambdaops-check",
        namespace=NAMESPACE,
        image=LAMBDAOPS_IMAGE,
        cmds=["lambdaops"],
        arguments=["-c", "/etc/lambdaops/lambdaops.yaml", "check"],
        env_vars=[
            secret_env("CH_LAMBDAOPS_PASSWORD", "clickhouse-credentials", "CH_LAMBDAOPS_PASSWORD"),
            secret_env("LAMBDAOPS_PASSWORD", "postgres-credentials", "LAMBDAOPS_PASSWORD"),
        ],
        volumes=[k8s.V1Volume(
            name="config",
            config_map=k8s.V1ConfigMapVolumeSource(name="lambdaops-reconcile"))],
        volume_mounts=[k8s.V1VolumeMount(name="config", mount_path="/etc/lambdaops",
                                         read_only=True)],
        container_resources=k8s.V1ResourceRequirements(
            requests={"cpu": "50m", "memory": "64Mi"},
            limits={"cpu": "500m", "memory": "256Mi"}),
        get_logs=True,
        on_finish_action="delete_succeeded_pod",
        retries=0,                      # a mismatch is an answer, not a flake
    )

    spark_batch >> dbt_run >> dbt_test >> lambdaops_check
