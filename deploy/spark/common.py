"""Shared helpers of the lambdaops Spark jobs (speed_job.py, batch_job.py).

Every secret comes from the environment (the SparkApplication maps it from
a Kubernetes Secret); nothing secret is in a Spark conf file or argument.
"""

import json
import os
import urllib.parse
import urllib.request


def env(name, default=None):
    """The variable's value; an unset variable without a default is an
    error that names the variable (never a value)."""
    value = os.environ.get(name)
    if value:
        return value
    if default is not None:
        return default
    raise SystemExit(f"lambdaops spark job: environment variable {name} is not set")


def latest_schema(registry_url, subject, timeout_s=10):
    """The newest Avro schema (JSON text) of a Schema Registry subject."""
    url = "%s/subjects/%s/versions/latest" % (
        registry_url.rstrip("/"), urllib.parse.quote(subject, safe=""))
    with urllib.request.urlopen(url, timeout=timeout_s) as resp:
        body = json.load(resp)
    schema = body.get("schema")
    if not schema:
        raise SystemExit(f"schema registry: subject {subject} has no schema")
    return schema


def confluent_payload(col):
    """Spark SQL for the Avro body of a Confluent-framed value: one magic
    byte and a 4-byte schema id precede it."""
    return f"substring({col}, 6, length({col}) - 5)"
