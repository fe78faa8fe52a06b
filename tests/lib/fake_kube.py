#!/usr/bin/env python3
"""Stateful fake kube-apiserver for tests and benchmarks (test-only).

No API server can run here, so the Kubernetes client (src/clients/kube/kube.c), the
kubernetes/spark collectors and the kubectl actions are tested against this
server, which follows the real API semantics of the Kubernetes API reference
section 1 closely enough for the real kubectl 1.27-1.33.  python3 stdlib only.

Usage:
  fake_kube.py --port-file F --log L [--fixtures DIR]... [--pods N]
               [--tls --cert C --key K [--client-ca CA]] [--token TOKEN]
               [--bookmark-interval SEC] [--history N] [--exit-with-parent]

Binds 127.0.0.1 on a free port and writes the port to --port-file (atomically,
once it accepts connections).  Every request is logged as one JSON line to
--log: {"t","method","path","query","content_type","accept","body","auth",
"cn"?}; "auth" is "cert" (client certificate, its CN in "cn"), "bearer",
"bad-bearer" (a token that is not --token) or "none".  The token value is
never logged.

Auth: with --client-ca a client certificate signed by that CA is accepted;
with --token, "Authorization: Bearer TOKEN".  When either is configured every
API request without valid auth gets 401 (a Status object).  /_fake/* never
needs auth.

Fixture directory layout (--fixtures may repeat; later dirs override earlier
objects with the same kind/namespace/name).  Every fixture file (objects, raw,
logs) may hold relative times, {{now-3d2h30m}} and the like, expanded when
read at the test's anchor LO_FIXTURE_NOW (syntax: tests/lib/fixture_time.py):
  DIR/objects/*.json   each a JSON array of full Kubernetes objects
                       (apiVersion, kind, metadata.name, metadata.namespace
                       when namespaced, ...).  Routed by kind: Namespace,
                       Node, Pod, Service, Secret, ConfigMap,
                       PersistentVolumeClaim, Event (core/v1; Events are
                       also served converted at events.k8s.io/v1),
                       StatefulSet, Deployment, ReplicaSet (apps/v1),
                       SparkApplication, ScheduledSparkApplication
                       (sparkoperator.k8s.io/v1beta2).  metadata.uid,
                       resourceVersion, creationTimestamp (and generation)
                       are assigned when missing (creationTimestamp: the
                       anchor for fixtures, the time of the write for
                       objects created through the API).
  DIR/raw/<path>.json  answers GET /<path> verbatim (any query), e.g.
                       raw/api/v1/namespaces/processing/services/
                       speed-ui-svc:4040/proxy/api/v1/applications.json
  DIR/raw/<path>?<query>.json   same, only for that exact raw query string
                       (tried first).
  DIR/raw/<path>.status optional: the HTTP status for that answer (e.g. 503)
  DIR/logs/<ns>/<pod>.log            text for GET .../pods/<pod>/log
  DIR/logs/<ns>/<pod>.<container>.log          for ?container=<container>
  DIR/logs/<ns>/<pod>[.<container>].previous.log   for ?previous=true
                       Without a file the log is 20 synthetic lines
                       "<RFC3339> <pod>/<container> line N", line N
                       stamped N s after the pod's status.startTime (the
                       anchor when it has none).

Served API: discovery (/version, /api, /apis, /api/v1, /apis/G/V; legacy
documents only -- kubectl falls back from aggregated discovery by the
Content-Type), list (namespaced and all-namespaces) with labelSelector
(=, ==, !=, in, notin, exists, !exists), fieldSelector (=, ==, != on the
fields the real server supports per kind, else 400), limit/continue
(consistent snapshot, constant resourceVersion, remainingItemCount), get,
watch (chunked newline-delimited events after resourceVersion; RV absent or
"0" first replays ADDED for existing objects; BOOKMARKs with
allowWatchBookmarks, and the initial-events-end one after the replay with
sendInitialEvents=true; clean close after timeoutSeconds; ERROR 410 inside the
200 stream when the RV is older than the kept history), create (POST,
generateName, dryRun), replace (PUT, 409 Conflict on stale RV), PATCH
(application/strategic-merge-patch+json and merge-patch+json as RFC 7386,
json-patch+json as RFC 6902; generation follows spec changes), DELETE
(removes at once: no graceful termination), the scale subresource of
statefulsets, deployments, replicasets (GET/PUT/PATCH, autoscaling/v1
Scale), the log subresource of pods (tailLines, previous, container),
service proxy -> raw fixtures or 503, Table answers for `kubectl get`
(Accept ...;as=Table), and a minimal /openapi/v3 (so `kubectl create/apply
-f` use server-side field validation).  Every change bumps the
resourceVersion and emits watch events.  Errors are Status objects (400,
401, 403, 404, 405, 409, 410, 415, 500 for a bug in this file).

Test-control endpoints (no auth; never used by product code):
  POST /_fake/objects  body: JSON array of objects -> upsert (ADDED/MODIFIED)
  POST /_fake/delete   body: JSON array of {kind, namespace?, name} -> DELETED
  POST /_fake/expire   watches (open and next ones from an older RV) get
                       ERROR 410; outstanding continue tokens answer 410.
  POST /_fake/html     body {"enabled": true|false} (default true): answer
                       every API path with an HTML page (200, text/html).
  POST /_fake/forbid   body {"resources": ["secrets", ...]} -> 403 for those
                       resources (plural names; [] clears).
  POST /_fake/drop     close open watch streams abruptly (no final chunk).
  POST /_fake/bookmark send a BOOKMARK now on every open watch that asked
                       for bookmarks.
  GET  /_fake/requests the request log (JSON lines).
  GET  /_fake/state    {"resourceVersion": "N", "watches": open-watch count}
"""
import argparse
import base64
import copy
import datetime
import glob
import json
import os
import random
import re
import socket
import ssl
import sys
import threading
import time
import traceback
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fixture_time  # noqa: E402  (tests/lib/fixture_time.py)

# plural, kind, group, version, namespaced, shortNames, subresources
RESOURCES = [
    ("namespaces", "Namespace", "", "v1", False, ["ns"], ["status"]),
    ("nodes", "Node", "", "v1", False, ["no"], ["status", "proxy"]),
    ("pods", "Pod", "", "v1", True, ["po"], ["status", "log", "exec", "proxy"]),
    ("services", "Service", "", "v1", True, ["svc"], ["status", "proxy"]),
    ("secrets", "Secret", "", "v1", True, [], []),
    ("configmaps", "ConfigMap", "", "v1", True, ["cm"], []),
    ("persistentvolumeclaims", "PersistentVolumeClaim", "", "v1", True, ["pvc"], ["status"]),
    ("events", "Event", "", "v1", True, ["ev"], []),
    ("statefulsets", "StatefulSet", "apps", "v1", True, ["sts"], ["status", "scale"]),
    ("deployments", "Deployment", "apps", "v1", True, ["deploy"], ["status", "scale"]),
    ("replicasets", "ReplicaSet", "apps", "v1", True, ["rs"], ["status", "scale"]),
    ("events", "Event", "events.k8s.io", "v1", True, ["ev"], []),
    ("sparkapplications", "SparkApplication", "sparkoperator.k8s.io", "v1beta2", True,
     ["sparkapp"], ["status"]),
    ("scheduledsparkapplications", "ScheduledSparkApplication", "sparkoperator.k8s.io",
     "v1beta2", True, ["scheduledsparkapp"], ["status"]),
]
RES = {(r[2], r[3], r[0]): r for r in RESOURCES}
KIND_PLURAL = {r[1]: r[0] for r in RESOURCES}
KIND_NAMESPACED = {r[1]: r[4] for r in RESOURCES}
GROUPS = {}
for _r in RESOURCES:
    if _r[2]:
        GROUPS.setdefault(_r[2], _r[3])
# Field selectors the real server supports, besides metadata.name/namespace.
FIELDS = {
    "Pod": {"spec.nodeName", "spec.restartPolicy", "spec.schedulerName",
            "spec.serviceAccountName", "spec.hostNetwork", "status.phase",
            "status.podIP", "status.nominatedNodeName"},
    "Event": {"involvedObject.kind", "involvedObject.namespace", "involvedObject.name",
              "involvedObject.uid", "involvedObject.apiVersion",
              "involvedObject.resourceVersion", "involvedObject.fieldPath", "reason",
              "reportingComponent", "source", "type"},
    "Node": {"spec.unschedulable"},
    "Namespace": {"status.phase"},
    "Secret": {"type"},
    "ReplicaSet": {"status.replicas"},
}
EVENTS_V1_FIELDS = {"regarding.kind", "regarding.namespace", "regarding.name",
                    "regarding.uid", "reason", "reportingController", "type"}
LOG_LOCK = threading.Lock()


def now_iso():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def anchor_iso(offset_s=0):
    """The fixture anchor (LO_FIXTURE_NOW) plus offset_s, as RFC 3339."""
    return fixture_time.render(fixture_time.anchor() + offset_s, "")


def read_fixture(path, mode="r"):
    """A fixture file's content with its {{now...}} tokens expanded."""
    if mode == "rb":
        with open(path, "rb") as f:
            return fixture_time.expand(f.read())
    with open(path, encoding="utf-8", errors="replace") as f:
        return fixture_time.expand(f.read())


def status_obj(code, reason, message, details=None):
    s = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
         "message": message, "reason": reason, "code": code}
    if details is not None:
        s["details"] = details
    return s


class ApiError(Exception):
    def __init__(self, code, reason, message, details=None):
        super().__init__(message)
        self.status = status_obj(code, reason, message, details)


def not_found(plural, group, name):
    d = {"name": name, "kind": plural}
    if group:
        d["group"] = group
    what = plural + ("." + group if group else "")
    return ApiError(404, "NotFound", '%s "%s" not found' % (what, name), d)


# ---------------------------------------------------------------- selectors
def split_top(s):
    """Splits on commas outside parentheses."""
    out, depth, cur = [], 0, ""
    for ch in s:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            out.append(cur)
            cur = ""
        else:
            cur += ch
    out.append(cur)
    return [p.strip() for p in out if p.strip()]


LABEL_RE = re.compile(r"^(!?)\s*([A-Za-z0-9._/-]+)\s*(?:(==|=|!=)\s*([A-Za-z0-9._-]*)|"
                      r"\s+(in|notin)\s*\(([^)]*)\))?$")


def parse_labels(sel):
    reqs = []
    for part in split_top(sel or ""):
        m = LABEL_RE.match(part)
        if not m:
            raise ApiError(400, "BadRequest",
                           "unable to parse requirement: invalid label selector: %r" % part)
        neg, key, op, val, setop, vals = m.groups()
        if neg and (op or setop):
            raise ApiError(400, "BadRequest", "unable to parse requirement: %r" % part)
        if neg:
            reqs.append(("!", key, None))
        elif op:
            reqs.append(("!=" if op == "!=" else "=", key, val))
        elif setop:
            reqs.append((setop, key, {v.strip() for v in vals.split(",") if v.strip()}))
        else:
            reqs.append(("exists", key, None))
    return reqs


def labels_match(reqs, obj):
    labels = (obj.get("metadata") or {}).get("labels") or {}
    for op, key, val in reqs:
        have = key in labels
        v = labels.get(key)
        if op == "=" and v != val:
            return False
        if op == "!=" and have and v == val:
            return False
        if op == "in" and (not have or v not in val):
            return False
        if op == "notin" and have and v in val:
            return False
        if op == "exists" and not have:
            return False
        if op == "!" and have:
            return False
    return True


def parse_fields(sel, kind, v1events):
    reqs = []
    allowed = {"metadata.name", "metadata.namespace"}
    allowed |= EVENTS_V1_FIELDS if v1events else FIELDS.get(kind, set())
    for part in split_top(sel or ""):
        m = re.match(r"^([A-Za-z0-9._]+)\s*(==|=|!=)\s*(.*)$", part)
        if not m:
            raise ApiError(400, "BadRequest", "invalid field selector: %r" % part)
        key, op, val = m.groups()
        if key not in allowed:
            raise ApiError(400, "BadRequest",
                           'field label not supported: %s' % key)
        reqs.append((key, op == "!=", val))
    return reqs


def field_value(obj, key):
    cur = obj
    for p in key.split("."):
        if not isinstance(cur, dict):
            cur = None
            break
        cur = cur.get(p)
    if key == "source" and isinstance(cur, dict):
        cur = cur.get("component")
    if isinstance(cur, bool):
        return "true" if cur else "false"
    if cur is None:
        return ""
    return str(cur)


def fields_match(reqs, obj):
    for key, neg, val in reqs:
        if (field_value(obj, key) == val) == neg:
            return False
    return True


# ---------------------------------------------------------------- patches
def merge_patch(target, patch):
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if not isinstance(target, dict):
        target = {}
    out = dict(target)
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge_patch(out.get(k), v)
    return out


def json_pointer(path):
    if path == "":
        return []
    if not path.startswith("/"):
        raise ApiError(422, "Invalid", "invalid JSON pointer %r" % path)
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def jp_parent(doc, toks):
    cur = doc
    for t in toks[:-1]:
        if isinstance(cur, list):
            cur = cur[int(t)]
        elif isinstance(cur, dict) and t in cur:
            cur = cur[t]
        else:
            raise ApiError(422, "Invalid", "json patch: path not found")
    return cur


def json_patch(doc, ops):
    doc = copy.deepcopy(doc)
    if not isinstance(ops, list):
        raise ApiError(400, "BadRequest", "json patch must be an array")
    for op in ops:
        kind = op.get("op")
        toks = json_pointer(op.get("path", ""))
        try:
            if kind == "test":
                parent = jp_parent(doc, toks)
                key = int(toks[-1]) if isinstance(parent, list) else toks[-1]
                if parent[key] != op.get("value"):
                    raise ApiError(422, "Invalid", "json patch test failed")
                continue
            if kind in ("move", "copy"):
                src = json_pointer(op.get("from", ""))
                sp = jp_parent(doc, src)
                sk = int(src[-1]) if isinstance(sp, list) else src[-1]
                value = copy.deepcopy(sp[sk])
                if kind == "move":
                    del sp[sk]
                kind, op = "add", {"value": value}
            if kind in ("remove", "replace"):
                parent = jp_parent(doc, toks)
                key = int(toks[-1]) if isinstance(parent, list) else toks[-1]
                if isinstance(parent, dict) and key not in parent:
                    raise ApiError(422, "Invalid", "json patch: path not found")
                if kind == "remove":
                    del parent[key]
                else:
                    parent[key] = op.get("value")
            elif kind == "add":
                parent = jp_parent(doc, toks)
                if isinstance(parent, list):
                    if toks[-1] == "-":
                        parent.append(op.get("value"))
                    else:
                        parent.insert(int(toks[-1]), op.get("value"))
                else:
                    parent[toks[-1]] = op.get("value")
            else:
                raise ApiError(400, "BadRequest", "unknown json patch op %r" % kind)
        except (KeyError, IndexError, ValueError, TypeError):
            raise ApiError(422, "Invalid", "json patch: cannot apply %r" % op)
    return doc


# ---------------------------------------------------------------- store
class Watch:
    def __init__(self, bookmarks):
        self.bookmarks = bookmarks
        self.dropped = False
        self.expired = False
        self.bookmark_now = False


class Store:
    def __init__(self, history):
        self.cond = threading.Condition()
        self.rv = 100
        self.objs = {}          # (kind, ns, name) -> object (never mutated in place)
        self.enc = {}           # (kind, ns, name) -> encoded JSON bytes of the object
        self.history = []       # [(rv, type, kind, obj)]
        self.floor = self.rv    # watches from an RV below this get 410
        self.max_history = history
        self.snapshots = {}     # rv -> dict copy, for consistent paging
        self.gen = 0            # continue-token generation (bumped by expire)
        self.watches = set()
        self.html = False
        self.forbidden = set()

    def wait(self, timeout):
        """self.cond.wait(timeout) for a caller that holds cond once and
        re-checks its predicate: it may return early (like a spurious wakeup)
        and up to 20 ms after a notify.  Condition.wait(timeout) itself hangs
        under libfaketime 0.9.10 with a shifted clock (the timed semaphore
        wait gets a deadline on the faked monotonic clock), while time.sleep
        works; the tests run this server under faketime."""
        self.cond.release()
        try:
            time.sleep(max(0.0, min(timeout, 0.02)))
        finally:
            self.cond.acquire()

    def key(self, obj):
        md = obj.get("metadata") or {}
        return (obj["kind"], md.get("namespace", "") if KIND_NAMESPACED[obj["kind"]] else "",
                md.get("name"))

    def _record(self, typ, kind, obj):
        self.history.append((self.rv, typ, kind, obj))
        if len(self.history) > self.max_history:
            drop = len(self.history) - self.max_history
            self.floor = self.history[drop - 1][0]
            del self.history[:drop]
        self.cond.notify_all()

    def put(self, obj, initial=False, create=False, api=False):
        """Inserts or replaces; returns (type, stored copy).  Caller holds cond.
        api: a write through the API (generation follows spec changes);
        otherwise a fixture/control upsert (an explicit generation is kept)."""
        kind = obj.get("kind")
        if kind not in KIND_PLURAL:
            raise ApiError(400, "BadRequest", "unsupported kind %r" % kind)
        obj = copy.deepcopy(obj)
        md = obj.setdefault("metadata", {})
        if not md.get("name"):
            raise ApiError(422, "Invalid", "metadata.name: Required value")
        if not KIND_NAMESPACED[kind]:
            md.pop("namespace", None)
        elif not md.get("namespace"):
            md["namespace"] = "default"
        k = self.key(obj)
        old = self.objs.get(k)
        if create and old is not None:
            raise ApiError(409, "AlreadyExists", '%s "%s" already exists'
                           % (KIND_PLURAL[kind], md["name"]),
                           {"name": md["name"], "kind": KIND_PLURAL[kind]})
        om = (old or {}).get("metadata", {})
        md.setdefault("uid", om.get("uid") or str(uuid.uuid4()))
        md.setdefault("creationTimestamp", om.get("creationTimestamp") or
                      (anchor_iso() if initial else now_iso()))
        if kind in ("StatefulSet", "Deployment", "ReplicaSet", "SparkApplication",
                    "ScheduledSparkApplication"):
            gen = om.get("generation", 1)
            if old is not None and old.get("spec") != obj.get("spec"):
                gen += 1
            if api:
                md["generation"] = gen
            else:
                md.setdefault("generation", gen)
        if initial and str(md.get("resourceVersion") or "").isdigit():
            self.rv = max(self.rv, int(md["resourceVersion"]))   # keep a fixture's RV
            md["resourceVersion"] = str(md["resourceVersion"])
        else:
            self.rv += 1
            md["resourceVersion"] = str(self.rv)
        self.objs[k] = obj
        self.enc[k] = json.dumps(obj, separators=(",", ":")).encode()
        typ = "ADDED" if old is None else "MODIFIED"
        if not initial:
            self._record(typ, kind, obj)
        return typ, obj

    def delete(self, kind, ns, name):
        k = (kind, ns if KIND_NAMESPACED[kind] else "", name)
        old = self.objs.pop(k, None)
        self.enc.pop(k, None)
        if old is None:
            return None
        self.rv += 1
        obj = copy.deepcopy(old)
        obj["metadata"]["resourceVersion"] = str(self.rv)
        self._record("DELETED", kind, obj)
        return obj

    def expire(self):
        self.rv += 1
        self.floor = self.rv
        self.history = []
        self.gen += 1
        self.snapshots = {}
        for w in self.watches:
            w.expired = True
        self.cond.notify_all()


# ---------------------------------------------------------------- fixtures
def load_fixtures(store, dirs):
    for d in dirs:
        for path in sorted(glob.glob(os.path.join(d, "objects", "*.json"))):
            try:
                arr = json.loads(read_fixture(path))
            except ValueError as e:
                sys.exit("fake_kube: %s: %s" % (path, e))
            if not isinstance(arr, list):
                sys.exit("fake_kube: %s: not a JSON array" % path)
            for obj in arr:
                try:
                    store.put(obj, initial=True)
                except (ApiError, KeyError, TypeError, AttributeError) as e:
                    sys.exit("fake_kube: %s: bad object: %s" % (path, e))


def synth_pods(store, n):
    """N realistic pods (~3.5 KB each) over namespaces/nodes; ~4% CrashLoopBackOff."""
    rnd = random.Random(42)
    namespaces = ["ingestion", "processing", "serving", "monitoring", "kafka", "batch"]
    nodes = ["node-%03d" % i for i in range(1, max(3, n // 60) + 1)]
    apps = ["kafka-connect", "debezium", "speed-layer", "clickhouse-sink", "api-gateway",
            "batch-loader", "prometheus-exporter", "airflow-worker"]
    for ns in namespaces:
        store.put({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns},
                   "status": {"phase": "Active"}}, initial=True)
    for i, node in enumerate(nodes):
        store.put({"apiVersion": "v1", "kind": "Node",
                   "metadata": {"name": node, "labels": {"kubernetes.io/hostname": node}},
                   "spec": {"podCIDR": "10.244.%d.0/24" % (i % 250)},
                   "status": {"capacity": {"cpu": "16", "memory": "65842060Ki", "pods": "110"},
                              "allocatable": {"cpu": "15800m", "memory": "64715660Ki",
                                              "pods": "110"},
                              "conditions": [{"type": "Ready", "status": "True",
                                              "reason": "KubeletReady"}],
                              "nodeInfo": {"kubeletVersion": "v1.29.4"}}}, initial=True)
    t0 = anchor_iso(-(3 * 86400 + 4 * 3600 + 30 * 60))     # started 3d04h30m ago
    for i in range(n):
        ns = namespaces[i % len(namespaces)]
        app = apps[i % len(apps)]
        rs = "%08x" % rnd.getrandbits(32)
        name = "%s-%s-%05d" % (app, rs[:6], i)
        node = nodes[rnd.randrange(len(nodes))]
        crash = i % 25 == 7
        restarts = rnd.randrange(30, 300) if crash else (1 if i % 9 == 0 else 0)
        cstate = ({"waiting": {"reason": "CrashLoopBackOff",
                               "message": "back-off 5m0s restarting failed container=%s "
                                          "pod=%s_%s(%s)" % (app, name, ns, rs)}}
                  if crash else {"running": {"startedAt": t0}})
        pod = {
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {
                "name": name, "namespace": ns, "generateName": "%s-%s-" % (app, rs[:6]),
                "labels": {"app": app, "app.kubernetes.io/name": app,
                           "app.kubernetes.io/part-of": "lambda-pipeline",
                           "pod-template-hash": rs[:6]},
                "annotations": {"prometheus.io/scrape": "true", "prometheus.io/port": "9404",
                                "kubectl.kubernetes.io/default-container": app},
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet",
                                     "name": "%s-%s" % (app, rs[:6]),
                                     "uid": str(uuid.UUID(int=rnd.getrandbits(128))),
                                     "controller": True, "blockOwnerDeletion": True}],
                "uid": str(uuid.UUID(int=rnd.getrandbits(128))),
                "creationTimestamp": t0,
            },
            "spec": {
                "nodeName": node, "restartPolicy": "Always", "schedulerName": "default-scheduler",
                "serviceAccountName": app, "terminationGracePeriodSeconds": 30,
                "dnsPolicy": "ClusterFirst", "priority": 0,
                "securityContext": {"runAsNonRoot": True, "fsGroup": 1000},
                "containers": [{
                    "name": app, "image": "registry.example.com/pipeline/%s:1.%d.%d"
                    % (app, i % 7, i % 13), "imagePullPolicy": "IfNotPresent",
                    "args": ["--config=/etc/%s/config.yaml" % app, "--log-level=info"],
                    "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"},
                              {"name": "metrics", "containerPort": 9404, "protocol": "TCP"}],
                    "env": [{"name": "POD_NAME", "valueFrom": {"fieldRef": {
                        "apiVersion": "v1", "fieldPath": "metadata.name"}}},
                        {"name": "KAFKA_BOOTSTRAP", "value": "kafka.kafka.svc:9092"},
                        {"name": "JAVA_OPTS", "value": "-Xms512m -Xmx1g -XX:+UseG1GC"}],
                    "resources": {"limits": {"cpu": "2", "memory": "2Gi"},
                                  "requests": {"cpu": "500m", "memory": "1Gi"}},
                    "readinessProbe": {"httpGet": {"path": "/ready", "port": 8080,
                                                   "scheme": "HTTP"},
                                       "periodSeconds": 10, "timeoutSeconds": 1,
                                       "successThreshold": 1, "failureThreshold": 3},
                    "volumeMounts": [{"name": "config", "mountPath": "/etc/%s" % app},
                                     {"name": "kube-api-access-%s" % rs[2:7], "readOnly": True,
                                      "mountPath": "/var/run/secrets/kubernetes.io/"
                                                   "serviceaccount"}],
                    "terminationMessagePath": "/dev/termination-log",
                    "terminationMessagePolicy": "File"}],
                "volumes": [{"name": "config", "configMap": {"name": app + "-config",
                                                             "defaultMode": 420}},
                            {"name": "kube-api-access-%s" % rs[2:7], "projected": {
                                "defaultMode": 420, "sources": [
                                    {"serviceAccountToken": {"expirationSeconds": 3607,
                                                             "path": "token"}},
                                    {"configMap": {"name": "kube-root-ca.crt", "items": [
                                        {"key": "ca.crt", "path": "ca.crt"}]}}]}}],
                "tolerations": [{"key": "node.kubernetes.io/not-ready", "operator": "Exists",
                                 "effect": "NoExecute", "tolerationSeconds": 300},
                                {"key": "node.kubernetes.io/unreachable",
                                 "operator": "Exists", "effect": "NoExecute",
                                 "tolerationSeconds": 300}],
            },
            "status": {
                "phase": "Running", "hostIP": "10.0.%d.%d" % (nodes.index(node) // 250,
                                                              nodes.index(node) % 250 + 1),
                "podIP": "10.244.%d.%d" % (i // 250 % 250, i % 250 + 1),
                "podIPs": [{"ip": "10.244.%d.%d" % (i // 250 % 250, i % 250 + 1)}],
                "startTime": t0, "qosClass": "Burstable",
                "conditions": [
                    {"type": "PodReadyToStartContainers", "status": "True",
                     "lastProbeTime": None, "lastTransitionTime": t0},
                    {"type": "Initialized", "status": "True", "lastProbeTime": None,
                     "lastTransitionTime": t0},
                    {"type": "Ready", "status": "False" if crash else "True",
                     "lastProbeTime": None, "lastTransitionTime": t0,
                     **({"reason": "ContainersNotReady",
                         "message": "containers with unready status: [%s]" % app}
                        if crash else {})},
                    {"type": "ContainersReady", "status": "False" if crash else "True",
                     "lastProbeTime": None, "lastTransitionTime": t0},
                    {"type": "PodScheduled", "status": "True", "lastProbeTime": None,
                     "lastTransitionTime": t0}],
                "containerStatuses": [{
                    "name": app, "ready": not crash, "started": not crash,
                    "restartCount": restarts,
                    "image": "registry.example.com/pipeline/%s:1.%d.%d" % (app, i % 7, i % 13),
                    "imageID": "registry.example.com/pipeline/%s@sha256:%064x"
                    % (app, rnd.getrandbits(256)),
                    "containerID": "containerd://%064x" % rnd.getrandbits(256),
                    "state": cstate,
                    "lastState": ({"terminated": {"exitCode": 137, "reason": "OOMKilled",
                                                  "startedAt": t0, "finishedAt": t0}}
                                  if crash else {})}],
            },
        }
        store.put(pod, initial=True)


# ---------------------------------------------------------------- discovery
def api_resource_list(group, version):
    res = []
    for r in RESOURCES:
        if r[2] != group or r[3] != version:
            continue
        verbs = ["create", "delete", "deletecollection", "get", "list", "patch", "update",
                 "watch"]
        res.append({"name": r[0], "singularName": r[1].lower(), "namespaced": r[4],
                    "kind": r[1], "verbs": verbs, "shortNames": r[5],
                    **({"categories": ["all"]} if r[0] in (
                        "pods", "services", "statefulsets", "deployments",
                        "replicasets") else {})})
        for sub in r[6]:
            skind, sgroup, sver = r[1], None, None
            sverbs = ["get", "patch", "update"]
            if sub == "scale":
                skind, sgroup, sver = "Scale", "autoscaling", "v1"
            elif sub == "log":
                skind, sverbs = "Pod", ["get"]
            elif sub in ("exec", "proxy"):
                skind = "PodExecOptions" if sub == "exec" else r[1] + "ProxyOptions"
                sverbs = ["create", "get"]
            e = {"name": "%s/%s" % (r[0], sub), "singularName": "", "namespaced": r[4],
                 "kind": skind, "verbs": sverbs}
            if sgroup:
                e["group"], e["version"] = sgroup, sver
            res.append(e)
    return {"kind": "APIResourceList", "apiVersion": "v1",
            "groupVersion": "%s/%s" % (group, version) if group else version,
            "resources": res}


def api_group_list():
    groups = []
    for g, v in GROUPS.items():
        gv = {"groupVersion": "%s/%s" % (g, v), "version": v}
        groups.append({"name": g, "versions": [gv], "preferredVersion": gv})
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def to_events_v1(ev):
    """core/v1 Event -> events.k8s.io/v1 Event."""
    out = {"apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": ev["metadata"]}
    ren = {"involvedObject": "regarding", "message": "note", "count": "deprecatedCount",
           "firstTimestamp": "deprecatedFirstTimestamp",
           "lastTimestamp": "deprecatedLastTimestamp", "source": "deprecatedSource",
           "reportingComponent": "reportingController"}
    for k, v in ev.items():
        if k in ("apiVersion", "kind", "metadata"):
            continue
        out[ren.get(k, k)] = v
    return out


# ---------------------------------------------------------------- tables
def age(ts):
    """kubectl-style age ("45s", "3m", "5h", "12d") of an RFC3339 time."""
    try:
        t = datetime.datetime.strptime(ts, "%Y-%m-%dT%H:%M:%SZ").replace(
            tzinfo=datetime.timezone.utc)
    except (TypeError, ValueError):
        return "<unknown>"
    s = int((datetime.datetime.now(datetime.timezone.utc) - t).total_seconds())
    for unit, n in (("d", 86400), ("h", 3600), ("m", 60)):
        if s >= 2 * n or (unit == "m" and s >= 120):
            return "%d%s" % (s // n, unit)
    return "%ds" % max(s, 0)


def pod_cells(o):
    st = o.get("status") or {}
    cs = st.get("containerStatuses") or []
    ready = sum(1 for c in cs if c.get("ready"))
    total = len((o.get("spec") or {}).get("containers") or cs)
    reason = st.get("reason") or st.get("phase") or "Unknown"
    for c in cs:
        w = (c.get("state") or {}).get("waiting")
        t = (c.get("state") or {}).get("terminated")
        if w and w.get("reason"):
            reason = w["reason"]
        elif t and t.get("reason"):
            reason = t["reason"]
    if (o.get("metadata") or {}).get("deletionTimestamp"):
        reason = "Terminating"
    return ["%d/%d" % (ready, total), reason, sum(c.get("restartCount", 0) for c in cs)]


def node_cells(o):
    st = o.get("status") or {}
    ready = [c.get("status") for c in st.get("conditions") or [] if c.get("type") == "Ready"]
    status = "Ready" if ready == ["True"] else "NotReady" if ready else "Unknown"
    if (o.get("spec") or {}).get("unschedulable"):
        status += ",SchedulingDisabled"
    roles = sorted(k.split("/", 1)[1] for k in ((o.get("metadata") or {}).get("labels") or {})
                   if k.startswith("node-role.kubernetes.io/")) or ["<none>"]
    return [status, ",".join(roles), "AGE", (st.get("nodeInfo") or {}).get("kubeletVersion", "")]


TABLE_COLUMNS = {
    "Pod": (["Ready", "Status", "Restarts"], pod_cells),
    "Node": (["Status", "Roles", "Age", "Version"], node_cells),
    "StatefulSet": (["Ready"], lambda o: ["%d/%d" % ((o.get("status") or {}).get(
        "readyReplicas", 0), (o.get("spec") or {}).get("replicas", 1))]),
    "Deployment": (["Ready", "Up-to-date", "Available"], lambda o: [
        "%d/%d" % ((o.get("status") or {}).get("readyReplicas", 0),
                   (o.get("spec") or {}).get("replicas", 1)),
        (o.get("status") or {}).get("updatedReplicas", 0),
        (o.get("status") or {}).get("availableReplicas", 0)]),
    "PersistentVolumeClaim": (["Status", "Volume", "Capacity"], lambda o: [
        (o.get("status") or {}).get("phase", ""), (o.get("spec") or {}).get("volumeName", ""),
        ((o.get("status") or {}).get("capacity") or {}).get("storage", "")]),
}


def table(kind, objs, md):
    """A meta.k8s.io/v1 Table (what `kubectl get` asks for without -o)."""
    extra, fn = TABLE_COLUMNS.get(kind, ([], lambda o: []))
    cols = ["Name"] + extra + ([] if "Age" in extra else ["Age"])
    rows = []
    for o in objs:
        m = o.get("metadata") or {}
        cells = [m.get("name")] + fn(o)
        cells = [age(m.get("creationTimestamp")) if c == "AGE" else c for c in cells]
        if "Age" not in extra:
            cells.append(age(m.get("creationTimestamp")))
        rows.append({"cells": cells, "object": {
            "kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": m}})
    return {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": md,
            "columnDefinitions": [{"name": c, "type": "integer" if c == "Restarts" else "string",
                                   "format": "name" if c == "Name" else "", "description": "",
                                   "priority": 0} for c in cols],
            "rows": rows}


# ---------------------------------------------------------------- handler
class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-kube-apiserver"
    sys_version = ""

    def log_message(self, fmt, *args):  # quiet; requests go to --log
        pass

    def setup(self):
        if isinstance(self.request, ssl.SSLSocket):
            self.request.settimeout(10)     # TLS handshake in this thread, bounded
            self.request.do_handshake()
            self.request.settimeout(None)
        super().setup()

    # -- plumbing
    def send_bytes(self, code, payload, ctype="application/json", headers=None):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Cache-Control", "no-cache, private")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def send_json(self, code, obj):
        self.send_bytes(code, json.dumps(obj, separators=(",", ":")).encode())

    def auth(self):
        srv = self.server
        cn = None
        if isinstance(self.connection, ssl.SSLSocket) and srv.client_ca:
            cert = self.connection.getpeercert()
            if cert:
                for rdn in cert.get("subject", ()):
                    for k, v in rdn:
                        if k == "commonName":
                            cn = v
                return "cert", cn
        h = self.headers.get("Authorization") or ""
        if h.startswith("Bearer "):
            if srv.token is not None and h[7:].strip() == srv.token:
                return "bearer", None
            return "bad-bearer", None
        return "none", None

    def handle_any(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        url = urlsplit(self.path)
        path = unquote(url.path)
        self.query = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        authkind, cn = self.auth()
        self.authkind, self.cn = authkind, cn
        entry = {"t": time.time(), "method": self.command, "path": path, "query": url.query,
                 "content_type": self.headers.get("Content-Type"),
                 "accept": self.headers.get("Accept"),
                 "body": body.decode("utf-8", "replace"), "auth": authkind}
        if cn is not None:
            entry["cn"] = cn
        with LOG_LOCK:
            with open(self.server.log_path, "a", encoding="utf-8") as f:
                f.write(json.dumps(entry) + "\n")
        try:
            if path.startswith("/_fake/"):
                return self.control(path, body)
            authed = authkind in ("cert", "bearer")
            if (self.server.client_ca or self.server.token is not None) and not authed:
                raise ApiError(401, "Unauthorized", "Unauthorized")
            store = self.server.store
            if store.html:
                return self.send_bytes(200, b"<!DOCTYPE html><html><head><title>Sign in"
                                       b"</title></head><body><h1>Corporate proxy login"
                                       b"</h1></body></html>\n", "text/html; charset=utf-8")
            self.route(path, url.query, body)
        except ApiError as e:
            self.send_json(e.status["code"], e.status)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception as e:  # a bug in this fake: say so loudly, answer 500
            traceback.print_exc()
            self.send_json(500, status_obj(500, "InternalError", "fake_kube.py: %r" % e))

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = handle_any

    # -- control
    def control(self, path, body):
        store = self.server.store
        try:
            arg = json.loads(body) if body.strip() else None
        except ValueError:
            raise ApiError(400, "BadRequest", "control body is not JSON")
        with store.cond:
            if path == "/_fake/objects" and self.command == "POST":
                out = [store.put(o)[0] for o in (arg or [])]
                return self.send_json(200, {"results": out, "resourceVersion": str(store.rv)})
            if path == "/_fake/delete" and self.command == "POST":
                n = 0
                for o in arg or []:
                    ns = o.get("namespace") or (o.get("metadata") or {}).get("namespace", "")
                    name = o.get("name") or (o.get("metadata") or {}).get("name")
                    if o.get("kind") in KIND_PLURAL and store.delete(o["kind"], ns, name):
                        n += 1
                return self.send_json(200, {"deleted": n, "resourceVersion": str(store.rv)})
            if path == "/_fake/expire" and self.command == "POST":
                store.expire()
                return self.send_json(200, {"resourceVersion": str(store.rv)})
            if path == "/_fake/html" and self.command == "POST":
                store.html = bool((arg or {}).get("enabled", True))
                return self.send_json(200, {"html": store.html})
            if path == "/_fake/forbid" and self.command == "POST":
                store.forbidden = set((arg or {}).get("resources", []))
                return self.send_json(200, {"forbidden": sorted(store.forbidden)})
            if path == "/_fake/drop" and self.command == "POST":
                for w in store.watches:
                    w.dropped = True
                store.cond.notify_all()
                return self.send_json(200, {"dropped": len(store.watches)})
            if path == "/_fake/bookmark" and self.command == "POST":
                for w in store.watches:
                    w.bookmark_now = True
                store.cond.notify_all()
                return self.send_json(200, {"watches": len(store.watches)})
            if path == "/_fake/state" and self.command == "GET":
                return self.send_json(200, {"resourceVersion": str(store.rv),
                                            "watches": len(store.watches)})
        if path == "/_fake/requests" and self.command == "GET":
            with LOG_LOCK:
                with open(self.server.log_path, "rb") as f:
                    data = f.read()
            return self.send_bytes(200, data, "application/x-ndjson")
        raise ApiError(404, "NotFound", "no such control endpoint")

    # -- routing
    def route(self, path, rawq, body):
        if self.command == "GET":
            raw = self.raw_fixture(path, rawq)
            if raw is not None:
                return self.send_bytes(raw[0], raw[1], raw[2])
        if path in ("/version", "/version/"):
            return self.send_json(200, {
                "major": "1", "minor": "32", "gitVersion": "v1.32.4",
                "gitCommit": "59526cd4867447956156ae3a602fcbac5d2c4c2b",
                "gitTreeState": "clean", "buildDate": "2025-04-22T16:02:27Z",
                "goVersion": "go1.23.6", "compiler": "gc", "platform": "linux/amd64"})
        if path in ("/healthz", "/livez", "/readyz"):
            return self.send_bytes(200, b"ok", "text/plain; charset=utf-8")
        if path == "/api":
            return self.send_json(200, {"kind": "APIVersions", "versions": ["v1"],
                                        "serverAddressByClientCIDRs": [{
                                            "clientCIDR": "0.0.0.0/0",
                                            "serverAddress": "127.0.0.1:%d"
                                            % self.server.server_address[1]}]})
        if path == "/apis":
            return self.send_json(200, api_group_list())
        if path == "/openapi/v3" or path.startswith("/openapi/v3/"):
            return self.openapi_v3(path[len("/openapi/v3/"):])
        segs = [s for s in path.split("/") if s]
        if len(segs) >= 2 and segs[0] == "api":
            group, version, rest = "", segs[1], segs[2:]
        elif len(segs) >= 2 and segs[0] == "apis":
            group = segs[1]
            if group not in GROUPS:
                raise ApiError(404, "NotFound", "the server could not find the requested "
                               "resource")
            if len(segs) == 2:
                gv = {"groupVersion": "%s/%s" % (group, GROUPS[group]),
                      "version": GROUPS[group]}
                return self.send_json(200, {"kind": "APIGroup", "apiVersion": "v1",
                                            "name": group, "versions": [gv],
                                            "preferredVersion": gv})
            version, rest = segs[2], segs[3:]
        else:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        if (group, version) not in {(r[2], r[3]) for r in RESOURCES}:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        if not rest:
            return self.send_json(200, api_resource_list(group, version))
        ns = None
        if rest[0] == "namespaces" and len(rest) >= 3 and group == "" and \
                rest[2] in ("status", "finalize"):
            plural, name, sub = "namespaces", rest[1], rest[2:]
        elif rest[0] == "namespaces" and len(rest) >= 3:
            ns, plural, name, sub = rest[1], rest[2], (rest[3] if len(rest) > 3 else None), \
                rest[4:]
        else:
            plural, name, sub = rest[0], (rest[1] if len(rest) > 1 else None), rest[2:]
        r = RES.get((group, version, plural))
        if r is None or (ns is not None and not r[4]):
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        if plural in self.server.store.forbidden:
            user = {"cert": self.cn, "bearer": "system:serviceaccount:default:lo-tester"}.get(
                self.authkind, "system:anonymous")
            verb = {"POST": "create", "PUT": "update", "PATCH": "patch",
                    "DELETE": "delete"}.get(self.command, "get")
            if verb == "get" and name is None:
                verb = "watch" if self.query.get("watch") in ("1", "true") else "list"
            raise ApiError(403, "Forbidden", '%s%s is forbidden: User "%s" cannot %s resource '
                           '"%s" in API group "%s"%s' % (
                               plural, ("." + group) if group else "", user,
                               verb, plural, group,
                               ' in the namespace "%s"' % ns if ns else " at the cluster scope"),
                           {"kind": plural, **({"group": group} if group else {})})
        if name is None:
            if r[4] and ns is None and self.command not in ("GET", "HEAD"):
                raise ApiError(405, "MethodNotAllowed", "the server does not allow this "
                               "method on the requested resource")
            if self.command in ("GET", "HEAD"):
                if self.query.get("watch") in ("1", "true"):
                    return self.watch(r, ns)
                return self.list(r, ns)
            if self.command == "POST":
                return self.create(r, ns, body)
            raise ApiError(405, "MethodNotAllowed", "the server does not allow this method on "
                           "the requested resource")
        if sub:
            return self.subresource(r, ns, name, sub, body)
        return self.one(r, ns, name, body)

    def openapi_v3(self, gvpath):
        """Just enough OpenAPI v3 for kubectl's field-validation probe: each
        group-version lists a PATCH operation per kind with the
        fieldValidation query parameter, so kubectl create/apply rely on
        server-side validation (this server accepts any fields)."""
        gvs = sorted({(r[2], r[3]) for r in RESOURCES})
        name = {(g, v): ("apis/%s/%s" % (g, v) if g else "api/%s" % v) for g, v in gvs}
        if not gvpath:
            return self.send_json(200, {"paths": {
                n: {"serverRelativeURL": "/openapi/v3/%s?hash=FAKE" % n}
                for n in name.values()}})
        for gv, n in name.items():
            if n != gvpath:
                continue
            paths, schemas = {}, {}
            for r in RESOURCES:
                if (r[2], r[3]) != gv:
                    continue
                gvk = {"group": r[2], "version": r[3], "kind": r[1]}
                p = "/%s/%s%s/{name}" % (n, "namespaces/{namespace}/" if r[4] else "", r[0])
                paths[p] = {"patch": {
                    "x-kubernetes-group-version-kind": gvk,
                    "parameters": [{"name": "fieldValidation", "in": "query",
                                    "schema": {"type": "string", "uniqueItems": True}}]}}
                schemas["%s.%s.%s" % (r[2] or "core", r[3], r[1])] = {
                    "type": "object", "x-kubernetes-preserve-unknown-fields": True,
                    "x-kubernetes-group-version-kind": [gvk]}
            return self.send_json(200, {"openapi": "3.0.0",
                                        "info": {"title": "Kubernetes", "version": "v1.32.4"},
                                        "paths": paths, "components": {"schemas": schemas}})
        raise ApiError(404, "NotFound", "the server could not find the requested resource")

    def raw_fixture(self, path, rawq):
        rel = path.lstrip("/")
        if not rel or ".." in rel.split("/"):
            return None
        for d in reversed(self.server.fixtures):
            cands = ([os.path.join(d, "raw", rel + "?" + rawq)] if rawq else []) + \
                [os.path.join(d, "raw", rel)]
            for base in cands:
                if os.path.isfile(base + ".json"):
                    data = read_fixture(base + ".json", "rb")
                    code = 200
                    if os.path.isfile(base + ".status"):
                        with open(base + ".status") as f:
                            code = int(f.read().strip() or 200)
                    return code, data, "application/json"
        return None

    # -- verbs
    def list(self, r, ns):
        store = self.server.store
        kind = r[1]
        v1ev = r[2] == "events.k8s.io"
        lreq = parse_labels(self.query.get("labelSelector"))
        freq = parse_fields(self.query.get("fieldSelector"), kind, v1ev)
        try:
            limit = int(self.query.get("limit") or 0)
        except ValueError:
            raise ApiError(400, "BadRequest", "invalid limit")
        cont = self.query.get("continue") or ""
        with store.cond:
            if cont:
                try:
                    tok = json.loads(base64.urlsafe_b64decode(cont + "==="))
                    rv, start, gen = int(tok["rv"]), tok["start"], tok["gen"]
                except (ValueError, KeyError, TypeError):
                    raise ApiError(400, "BadRequest", "continue key is not valid")
                snap = store.snapshots.get(rv)
                if gen != store.gen or snap is None:
                    raise ApiError(410, "Expired", "The provided continue parameter is too "
                                   "old to display a consistent list result. You can start "
                                   "a new list without the continue parameter, or use the "
                                   "continue token in this response to retrieve the "
                                   "remainder of the results. Continuing with the provided "
                                   "token results in an inconsistent list - objects that "
                                   "were created, modified, or deleted between the time the "
                                   "first chunk was returned and now may show up in the "
                                   "list.")
            else:
                rv, start = store.rv, None
                snap = None
                if limit > 0:
                    snap = store.snapshots.get(rv)
                    if snap is None:
                        snap = (dict(store.objs), dict(store.enc))
                        store.snapshots[rv] = snap
                        for old in sorted(store.snapshots)[:-32]:
                            del store.snapshots[old]
            objs, enc = snap if snap else (store.objs, store.enc)
            keys = sorted(k for k in objs if k[0] == kind and (ns is None or k[1] == ns))
            gen = store.gen
            if not snap:
                objs, enc = dict(objs), dict(enc)
        out, more = [], 0
        for k in keys:
            if start is not None and (k[1], k[2]) <= tuple(start):
                continue
            o = objs[k]
            if v1ev:
                o = to_events_v1(o)
            if lreq and not labels_match(lreq, o):
                continue
            if freq and not fields_match(freq, o):
                continue
            if limit and len(out) >= limit:
                more += 1
                continue
            out.append((k, o))
        md = {"resourceVersion": str(rv)}
        if more:
            last = out[-1][0]
            md["continue"] = base64.urlsafe_b64encode(json.dumps(
                {"rv": rv, "start": [last[1], last[2]], "gen": gen}).encode()).decode().rstrip("=")
            if not lreq and not freq:  # as the real server: not with selectors
                md["remainingItemCount"] = more
        if self.wants_table():
            return self.send_json(200, table(kind, [o for _, o in out], md))
        items = [json.dumps(o, separators=(",", ":")).encode() if v1ev else enc[k]
                 for k, o in out]
        head = json.dumps({"kind": r[1] + "List",
                           "apiVersion": "%s/%s" % (r[2], r[3]) if r[2] else r[3],
                           "metadata": md}, separators=(",", ":")).encode()
        payload = head[:-1] + b',"items":[' + b",".join(items) + b"]}"
        self.send_bytes(200, payload)

    def watch(self, r, ns):
        store = self.server.store
        kind = r[1]
        v1ev = r[2] == "events.k8s.io"
        lreq = parse_labels(self.query.get("labelSelector"))
        freq = parse_fields(self.query.get("fieldSelector"), kind, v1ev)
        rvq = self.query.get("resourceVersion") or "0"
        bookmarks = self.query.get("allowWatchBookmarks") in ("1", "true")
        try:
            timeout = float(self.query.get("timeoutSeconds") or 1800)
            rv = int(rvq)
        except ValueError:
            raise ApiError(400, "BadRequest", "invalid resourceVersion or timeoutSeconds")
        deadline = time.monotonic() + timeout
        api_version = "%s/%s" % (r[2], r[3]) if r[2] else r[3]

        def matches(k, o):
            return k[0] == kind and (ns is None or k[1] == ns) and \
                (not lreq or labels_match(lreq, o)) and (not freq or fields_match(freq, o))

        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Cache-Control", "no-cache, private")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.close_connection = True

        def chunk(events):
            data = b"".join(json.dumps({"type": t, "object": o}, separators=(",", ":")).encode()
                            + b"\n" for t, o in events)
            if data:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                self.wfile.flush()

        as_table = self.wants_table()

        def conv(o):
            o = to_events_v1(o) if v1ev else o
            if as_table:
                return table(kind, [o], {"resourceVersion": o["metadata"]["resourceVersion"]})
            return o

        w = Watch(bookmarks)
        last_bm = time.monotonic()
        with store.cond:
            store.watches.add(w)
            initial = []
            if rv == 0:
                for k in sorted(store.objs):
                    o = to_events_v1(store.objs[k]) if v1ev else store.objs[k]
                    if matches(k, o):
                        initial.append(("ADDED", conv(store.objs[k])))
                pos_rv = store.rv
                if bookmarks and self.query.get("sendInitialEvents") == "true":
                    initial.append(("BOOKMARK", {
                        "kind": kind, "apiVersion": api_version, "metadata": {
                            "resourceVersion": str(pos_rv),
                            "annotations": {"k8s.io/initial-events-end": "true"}}}))
            elif rv < store.floor:
                initial.append(("ERROR", status_obj(410, "Expired",
                                                    "too old resource version: %d (%d)"
                                                    % (rv, store.rv))))
                pos_rv = None
            else:
                pos_rv = rv
        try:
            chunk(initial)
            while pos_rv is not None:
                with store.cond:
                    while True:
                        if w.dropped or w.expired or w.bookmark_now:
                            break
                        if store.history and store.history[-1][0] > pos_rv:
                            break
                        left = deadline - time.monotonic()
                        if left <= 0:
                            break
                        if bookmarks and self.server.bm_interval > 0:
                            bl = last_bm + self.server.bm_interval - time.monotonic()
                            if bl <= 0:
                                w.bookmark_now = True
                                break
                            left = min(left, bl)
                        store.wait(left)
                    if w.dropped:
                        break
                    if w.expired:
                        evs = [("ERROR", status_obj(410, "Expired",
                                                    "too old resource version: %d (%d)"
                                                    % (pos_rv, store.rv)))]
                        pos_rv = None
                    else:
                        evs = []
                        for hrv, typ, hkind, o in store.history:
                            if hrv <= pos_rv:
                                continue
                            md = o.get("metadata") or {}
                            k = (hkind, md.get("namespace", ""), md.get("name"))
                            if matches(k, to_events_v1(o) if v1ev and hkind == "Event" else o):
                                evs.append((typ, conv(o)))
                            pos_rv = hrv
                        if w.bookmark_now:
                            w.bookmark_now = False
                            if bookmarks:
                                last_bm = time.monotonic()
                                evs.append(("BOOKMARK", {
                                    "kind": kind, "apiVersion": api_version,
                                    "metadata": {"resourceVersion": str(store.rv)}}))
                                pos_rv = max(pos_rv, store.rv)
                chunk(evs)
                if time.monotonic() >= deadline:
                    break
            if w.dropped:
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, OSError):
            pass
        finally:
            with store.cond:
                store.watches.discard(w)

    def get_obj(self, r, ns, name):
        store = self.server.store
        o = store.objs.get((r[1], ns or "", name))
        if o is None:
            raise not_found(r[0], r[2], name)
        return o

    def ns_exists(self, ns):
        store = self.server.store
        have_ns = any(k[0] == "Namespace" for k in store.objs)
        if have_ns and ("Namespace", "", ns) not in store.objs:
            raise not_found("namespaces", "", ns)

    def body_json(self, body):
        try:
            return json.loads(body)
        except ValueError:
            raise ApiError(400, "BadRequest", "the body of the request was in an unknown "
                           "format - accepted media types include: application/json, "
                           "application/yaml, application/vnd.kubernetes.protobuf")

    def wants_table(self):
        return "as=Table" in (self.headers.get("Accept") or "")

    def dry(self):
        return self.query.get("dryRun") == "All"

    def create(self, r, ns, body):
        store = self.server.store
        obj = self.body_json(body)
        if not isinstance(obj, dict):
            raise ApiError(400, "BadRequest", "body is not an object")
        obj.setdefault("kind", r[1])
        obj.setdefault("apiVersion", "%s/%s" % (r[2], r[3]) if r[2] else r[3])
        if obj["kind"] != r[1]:
            raise ApiError(400, "BadRequest", "the API version in the data (%s) does not match "
                           "the expected API version" % obj.get("apiVersion"))
        md = obj.setdefault("metadata", {})
        if ns is not None:
            if md.get("namespace") and md["namespace"] != ns:
                raise ApiError(400, "BadRequest", "the namespace of the provided object does "
                               "not match the namespace sent on the request")
            md["namespace"] = ns
        if not md.get("name") and md.get("generateName"):
            md["name"] = md["generateName"] + "".join(
                random.choice("bcdfghjklmnpqrstvwxz2456789") for _ in range(5))
        md.pop("resourceVersion", None)
        with store.cond:
            if ns is not None:
                self.ns_exists(ns)
            if self.dry():
                if store.key(obj) in store.objs:
                    raise ApiError(409, "AlreadyExists", '%s "%s" already exists'
                                   % (r[0], md.get("name")))
                return self.send_json(201, obj)
            _, stored = store.put(obj, create=True, api=True)
        self.send_json(201, self.view(r, stored))

    def view(self, r, o):
        return to_events_v1(o) if r[2] == "events.k8s.io" else o

    def apply_patch(self, target, body):
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip()
        if ctype not in ("application/strategic-merge-patch+json",
                         "application/merge-patch+json", "application/json-patch+json"):
            raise ApiError(415, "UnsupportedMediaType", "the body of the request was in an "
                           "unknown format - accepted media types include: "
                           "application/json-patch+json, application/merge-patch+json, "
                           "application/strategic-merge-patch+json")
        patch = self.body_json(body)
        if ctype in ("application/strategic-merge-patch+json", "application/merge-patch+json"):
            if not isinstance(patch, dict):
                raise ApiError(400, "BadRequest", "patch is not an object")
            return merge_patch(target, patch)
        if ctype == "application/json-patch+json":
            return json_patch(target, patch)
        raise ApiError(415, "UnsupportedMediaType", "the body of the request was in an "
                       "unknown format - accepted media types include: "
                       "application/json-patch+json, application/merge-patch+json, "
                       "application/strategic-merge-patch+json")

    def check_update(self, old, new, r, name):
        want = (new.get("metadata") or {}).get("resourceVersion")
        if want and want != old["metadata"]["resourceVersion"]:
            raise ApiError(409, "Conflict", 'Operation cannot be fulfilled on %s "%s": the '
                           'object has been modified; please apply your changes to the latest '
                           'version and try again' % (r[0], name),
                           {"name": name, "kind": r[0]})
        md = new.setdefault("metadata", {})
        md["name"], md["uid"] = name, old["metadata"]["uid"]
        if old["metadata"].get("namespace"):
            md["namespace"] = old["metadata"]["namespace"]
        md.pop("resourceVersion", None)
        new["kind"], new["apiVersion"] = old["kind"], old["apiVersion"]

    def one(self, r, ns, name, body):
        store = self.server.store
        if r[2] == "events.k8s.io" and self.command not in ("GET", "HEAD"):
            raise ApiError(405, "MethodNotAllowed", "events.k8s.io is read-only here")
        with store.cond:
            old = self.get_obj(r, ns, name)
            if self.command in ("GET", "HEAD"):
                if self.wants_table():
                    return self.send_json(200, table(r[1], [old], {
                        "resourceVersion": old["metadata"]["resourceVersion"]}))
                return self.send_json(200, self.view(r, old))
            if self.command == "DELETE":
                if self.dry():
                    return self.send_json(200, old)
                o = store.delete(r[1], ns or "", name)
                o = copy.deepcopy(o)
                o["metadata"]["deletionTimestamp"] = now_iso()
                return self.send_json(200, o)
            if self.command == "PUT":
                new = self.body_json(body)
            elif self.command == "PATCH":
                new = self.apply_patch(old, body)
            else:
                raise ApiError(405, "MethodNotAllowed", "the server does not allow this "
                               "method on the requested resource")
            if not isinstance(new, dict):
                raise ApiError(400, "BadRequest", "body is not an object")
            self.check_update(old, new, r, name)
            if self.dry():
                return self.send_json(200, new)
            _, stored = store.put(new, api=True)
        self.send_json(200, stored)

    def subresource(self, r, ns, name, sub, body):
        store = self.server.store
        what = sub[0]
        if what not in r[6] or (what != "proxy" and len(sub) > 1):
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        if what == "proxy":
            with store.cond:
                self.get_obj(r, ns, name.split(":")[0])
            raise ApiError(503, "ServiceUnavailable", 'no endpoints available for service "%s"'
                           % name.split(":")[0])
        if what == "log":
            return self.pod_log(r, ns, name)
        if what == "exec":
            raise ApiError(400, "BadRequest", "Upgrade request required")
        with store.cond:
            old = self.get_obj(r, ns, name)
            if what == "status":
                if self.command == "GET":
                    return self.send_json(200, old)
                new = self.apply_patch(old, body) if self.command == "PATCH" else \
                    self.body_json(body)
                self.check_update(old, new, r, name)
                new["spec"] = old.get("spec")
                _, stored = store.put(new, api=True)
                return self.send_json(200, stored)
            # scale
            scale = {"kind": "Scale", "apiVersion": "autoscaling/v1",
                     "metadata": {k: old["metadata"][k] for k in (
                         "name", "namespace", "uid", "resourceVersion", "creationTimestamp")},
                     "spec": {"replicas": (old.get("spec") or {}).get("replicas", 1)},
                     "status": {"replicas": (old.get("status") or {}).get("replicas", 0),
                                "selector": ",".join(
                                    "%s=%s" % kv for kv in sorted(
                                        ((old.get("spec") or {}).get("selector") or {}).get(
                                            "matchLabels", {}).items()))}}
            if self.command == "GET":
                return self.send_json(200, scale)
            if self.command == "PUT":
                new = self.body_json(body)
            elif self.command == "PATCH":
                new = self.apply_patch(scale, body)
            else:
                raise ApiError(405, "MethodNotAllowed", "the server does not allow this "
                               "method on the requested resource")
            want = ((new or {}).get("metadata") or {}).get("resourceVersion")
            if self.command == "PUT" and want and want != old["metadata"]["resourceVersion"]:
                raise ApiError(409, "Conflict", 'Operation cannot be fulfilled on %s "%s": '
                               'the object has been modified; please apply your changes to '
                               'the latest version and try again' % (r[0], name))
            try:
                replicas = int(new["spec"]["replicas"])
            except (KeyError, TypeError, ValueError):
                raise ApiError(422, "Invalid", "Scale.autoscaling \"%s\" is invalid: "
                               "spec.replicas: Required value" % name)
            if replicas < 0:
                raise ApiError(422, "Invalid", "Scale.autoscaling \"%s\" is invalid: "
                               "spec.replicas: Invalid value: %d: must be greater than or "
                               "equal to 0" % (name, replicas))
            upd = copy.deepcopy(old)
            upd.setdefault("spec", {})["replicas"] = replicas
            upd["metadata"].pop("resourceVersion", None)
            if not self.dry():
                _, stored = store.put(upd, api=True)
                scale["metadata"]["resourceVersion"] = stored["metadata"]["resourceVersion"]
            scale["spec"]["replicas"] = replicas
        self.send_json(200, scale)

    def pod_log(self, r, ns, name):
        store = self.server.store
        if self.command != "GET":
            raise ApiError(405, "MethodNotAllowed", "the server does not allow this method")
        with store.cond:
            pod = self.get_obj(r, ns, name)
        containers = [c.get("name") for c in (pod.get("spec") or {}).get("containers", [])]
        cname = self.query.get("container")
        if not cname:
            if len(containers) != 1:
                raise ApiError(400, "BadRequest", "a container name must be specified for pod "
                               "%s, choose one of: [%s]" % (name, " ".join(containers)))
            cname = containers[0]
        elif cname not in containers:
            raise ApiError(400, "BadRequest", "container %s is not valid for pod %s"
                           % (cname, name))
        previous = self.query.get("previous") in ("1", "true")
        text = None
        for d in reversed(self.server.fixtures):
            base = os.path.join(d, "logs", ns, name)
            cands = [base + "." + cname] + ([base] if cname == containers[0] else [])
            for c in cands:
                p = c + (".previous" if previous else "") + ".log"
                if os.path.isfile(p):
                    text = read_fixture(p)
                    break
            if text is not None:
                break
        if text is None:
            if previous:
                restarts = 0
                for cs in (pod.get("status") or {}).get("containerStatuses", []):
                    if cs.get("name") == cname:
                        restarts = cs.get("restartCount", 0)
                if not restarts:
                    raise ApiError(400, "BadRequest", 'previous terminated container "%s" in '
                                   'pod "%s" not found' % (cname, name))
            tag = "previous " if previous else ""
            t0 = fixture_time.anchor()
            try:
                t0 = int(datetime.datetime.strptime(
                    (pod.get("status") or {}).get("startTime") or "", "%Y-%m-%dT%H:%M:%SZ").replace(
                    tzinfo=datetime.timezone.utc).timestamp())
            except (TypeError, ValueError):
                pass
            text = "".join("%s %s/%s %sline %d\n" % (fixture_time.render(t0 + i, ""), name, cname,
                                                      tag, i) for i in range(1, 21))
        tail = self.query.get("tailLines")
        if tail not in (None, ""):
            try:
                n = int(tail)
            except ValueError:
                raise ApiError(400, "BadRequest", "invalid tailLines")
            lines = text.splitlines(True)
            text = "".join(lines[-n:]) if n > 0 else ""
        self.send_bytes(200, text.encode(), "text/plain")


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64

    def handle_error(self, request, client_address):  # quiet on client hangups
        pass


def main():
    ap = argparse.ArgumentParser(description="fake kube-apiserver (test-only)")
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--fixtures", action="append", default=[])
    ap.add_argument("--pods", type=int, default=0)
    ap.add_argument("--tls", action="store_true")
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--client-ca")
    ap.add_argument("--token")
    ap.add_argument("--bookmark-interval", type=float, default=5.0,
                    help="seconds between BOOKMARKs on watches that allow them (0: only on "
                         "POST /_fake/bookmark)")
    ap.add_argument("--history", type=int, default=10000,
                    help="watch events kept; older RVs get 410")
    ap.add_argument("--exit-with-parent", action="store_true",
                    help="exit when the process that started us dies (a killed test "
                         "never leaves a server behind)")
    a = ap.parse_args()
    if a.exit_with_parent:
        parent = os.getppid()

        def watch_parent():
            while os.getppid() == parent:
                time.sleep(0.5)
            os._exit(0)
        threading.Thread(target=watch_parent, daemon=True).start()
    if a.tls and not (a.cert and a.key):
        ap.error("--tls needs --cert and --key")
    if a.client_ca and not a.tls:
        ap.error("--client-ca needs --tls")
    store = Store(a.history)
    load_fixtures(store, a.fixtures)
    if a.pods:
        synth_pods(store, a.pods)
    store.floor = store.rv
    srv = Server(("127.0.0.1", 0), Handler)
    srv.store, srv.log_path, srv.fixtures = store, a.log, a.fixtures
    srv.client_ca, srv.token, srv.bm_interval = a.client_ca, a.token, a.bookmark_interval
    open(a.log, "a").close()
    if a.tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(a.cert, a.key)
        if a.client_ca:
            ctx.load_verify_locations(a.client_ca)
            ctx.verify_mode = ssl.CERT_OPTIONAL
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True,
                                     do_handshake_on_connect=False)
    tmp = a.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(tmp, a.port_file)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
