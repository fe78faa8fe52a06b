#!/usr/bin/env python3
"""deploy_lint.py: validates deploy/ (the pipeline as code) without a cluster.

Called by tests/checks/deploy.sh, which starts a throwaway PostgreSQL 15 and
ClickHouse 18.16 and passes their ports. Checks, each printed as it runs:

  yaml      every *.yaml/*.yml parses (all documents); every document is a
            known kind of file (manifest, kustomization, kind config, plan,
            lambdaops config, Helm values, dbt, lambdaops runbooks)
  manifest  the fields the API requires per kind (apiVersion, metadata.name,
            namespace where namespaced, selector/template labels, serviceName,
            containers with image, roleRef, ...), cross-references (Services
            select pods, serviceName is a headless Service, ServiceAccounts,
            ConfigMaps, StorageClasses, Secrets and their keys exist,
            NodePorts published by kind), images pinned (a tag, never
            `latest`), resources and probes on every container of every
            long-running workload, no secret value inline
  plan      deploy/plan.yaml: stages, argv steps (no shell), every ${var}
            defined, every ${deploy}/path exists, charts pinned, gates name
            sources of deploy/lambdaops.yaml; every manifest file is applied
            by some step
  config    deploy/lambdaops.yaml: secrets only by *_env/*_file, every
            variable defined by a deploy/secrets/*.env.example
  json      connector configs parse; secrets only via config providers
  python    every *.py compiles (py_compile)
  dbt       project, profiles (env_var secrets), refs and sources resolve,
            every model has tests
  postgres  deploy/postgres/*.sql on the real PostgreSQL; seed totals,
            roles, publication, logical decoding through the publication;
            the dbt models rendered and run on the warehouse, their tests
  clickhouse deploy/clickhouse/*.sql on the real ClickHouse 18.16: statements
            marked `-- requires:` must fail as written and run rewritten
            (`-- on-18.16: rewrite`) or are skipped (`-- on-18.16: skip`),
            all listed; the materialized view's totals
  reconcile the lambdaops binary runs the orders-hourly check of
            deploy/lambdaops.yaml (its exact queries) between the two real
            servers: every settled hour must match
  lambdaops `lambdaops plan` prints every stage, `up --dry-run` runs the
            whole plan, `config check` passes (kinds the binary does not know
            yet are reported as SKIP with the reason, and the rest of the
            file is checked without them)

Exit 0 when everything passed (SKIPs allowed), 1 otherwise.
"""

import argparse
import ast
import glob
import json
import os
import py_compile
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from decimal import Decimal

import yaml

FAILS = []
SKIPS = []
NOTES = []


def fail(where, msg):
    FAILS.append("%s: %s" % (where, msg))
    print("FAIL %s: %s" % (where, msg))


def skip(what, why):
    SKIPS.append("%s: %s" % (what, why))
    print("SKIP %s: %s" % (what, why))


def ok(what):
    print("ok   %s" % what)


def rel(path):
    return os.path.relpath(path, ROOT)


# --- YAML files --------------------------------------------------------------

NAMESPACES = {"data", "processing", "orchestration", "monitoring"}

# kind -> (apiVersion, namespaced)
KINDS = {
    "Namespace": ("v1", False),
    "ServiceAccount": ("v1", True),
    "ConfigMap": ("v1", True),
    "Service": ("v1", True),
    "PersistentVolumeClaim": ("v1", True),
    "StorageClass": ("storage.k8s.io/v1", False),
    "StatefulSet": ("apps/v1", True),
    "Deployment": ("apps/v1", True),
    "DaemonSet": ("apps/v1", True),
    "Job": ("batch/v1", True),
    "CronJob": ("batch/v1", True),
    "Role": ("rbac.authorization.k8s.io/v1", True),
    "RoleBinding": ("rbac.authorization.k8s.io/v1", True),
    "ClusterRole": ("rbac.authorization.k8s.io/v1", False),
    "ClusterRoleBinding": ("rbac.authorization.k8s.io/v1", False),
    "NetworkPolicy": ("networking.k8s.io/v1", True),
    "PodDisruptionBudget": ("policy/v1", True),
    "SparkApplication": ("sparkoperator.k8s.io/v1beta2", True),
}
WORKLOADS = {"StatefulSet", "Deployment", "DaemonSet"}
BATCH = {"Job", "CronJob"}
DNS1123 = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
SECRETISH = re.compile(r"(PASSWORD|PASSWD|SECRET|TOKEN|ACCESS_KEY|PRIVATE_KEY|API_KEY)", re.I)
FLOATING_TAGS = {"latest", "stable", "main", "master", "edge", "nightly", "lts", "current"}


def load_yaml_files():
    files = sorted(glob.glob(os.path.join(DEPLOY, "**", "*.yaml"), recursive=True) +
                   glob.glob(os.path.join(DEPLOY, "**", "*.yml"), recursive=True))
    out = {}
    for f in files:
        try:
            with open(f, encoding="utf-8") as fh:
                docs = [d for d in yaml.safe_load_all(fh) if d is not None]
        except yaml.YAMLError as e:
            fail(rel(f), "YAML does not parse: %s" % str(e).replace("\n", " "))
            continue
        out[f] = docs
    ok("yaml: %d files parse (%d documents)" % (len(out), sum(len(d) for d in out.values())))
    return out


def classify(files):
    """Splits the documents into manifests and the other known file kinds;
    anything unrecognised fails (nothing escapes the checks)."""
    manifests, kustomizations, other = [], {}, {}
    for f, docs in files.items():
        r = rel(f)
        base = os.path.basename(f)
        if base == "kustomization.yaml":
            kustomizations[f] = docs[0]
            continue
        if r == "deploy/plan.yaml":
            other["plan"] = docs[0]
            continue
        if r in ("deploy/lambdaops.yaml", "deploy/airflow/lambdaops-reconcile.yaml"):
            other.setdefault("lambdaops", {})[f] = docs[0]
            continue
        if r == "deploy/kind/kind-config.yaml":
            other["kind"] = docs[0]
            continue
        if base == "values.yaml":
            other.setdefault("values", {})[f] = docs[0]
            continue
        if r.startswith("deploy/dbt/"):
            other.setdefault("dbt", {})[f] = docs[0]
            continue
        if r.startswith("deploy/runbooks/"):
            # lambdaops runbooks: `lambdaops config check` validates them
            # (the config's `runbooks:` key), below
            other.setdefault("runbooks", {})[f] = docs[0]
            continue
        for i, d in enumerate(docs):
            if isinstance(d, dict) and "kind" in d:
                manifests.append((f, i, d))
            else:
                fail("%s[%d]" % (r, i), "neither a Kubernetes manifest nor a known file kind")
    return manifests, kustomizations, other


def get(d, path, default=None):
    for k in path.split("."):
        if not isinstance(d, dict) or k not in d:
            return default
        d = d[k]
    return d


def image_pinned(where, image):
    if not isinstance(image, str) or not image:
        fail(where, "container without an image")
        return
    if "@sha256:" in image:
        return
    last = image.rsplit("/", 1)[-1]
    if ":" not in last:
        fail(where, "image %s has no tag (pin an exact version)" % image)
        return
    tag = last.split(":", 1)[1]
    if tag.lower() in FLOATING_TAGS or not re.search(r"\d", tag):
        fail(where, "image %s is not pinned to a version (tag %s)" % (image, tag))
    elif "{{" in tag:
        fail(where, "image %s has a templated tag" % image)


def check_resources(where, c):
    res = c.get("resources") or {}
    for part in ("requests", "limits"):
        for r in ("cpu", "memory"):
            if not get(res, "%s.%s" % (part, r)):
                fail(where, "resources.%s.%s missing" % (part, r))


def check_env(where, env, ns, ctx):
    for e in env or []:
        name = e.get("name")
        if not name:
            fail(where, "env entry without a name")
            continue
        if "value" in e and "valueFrom" in e:
            fail(where, "env %s has both value and valueFrom" % name)
        if "value" in e and SECRETISH.search(name):
            v = str(e["value"])
            if not re.fullmatch(r"(\$\([A-Z0-9_]+\))?", v):
                fail(where, "env %s carries a literal secret value (use secretKeyRef)" % name)
        ref = get(e, "valueFrom.secretKeyRef")
        if ref:
            ctx["secret_refs"].append((where, ns, ref.get("name"), ref.get("key"),
                                       bool(ref.get("optional"))))
        cref = get(e, "valueFrom.configMapKeyRef")
        if cref:
            ctx["configmap_refs"].append((where, ns, cref.get("name")))
    return


def check_container(where, c, ns, ctx, long_running, init):
    if not c.get("name") or not DNS1123.match(c.get("name", "")):
        fail(where, "container name missing or not DNS-1123: %r" % c.get("name"))
    image_pinned(where, c.get("image"))
    check_resources(where, c)
    probes = ("readinessProbe", "livenessProbe")
    if long_running and not init:
        for p in probes:
            if not isinstance(c.get(p), dict) or not c.get(p):
                fail(where, "%s missing" % p)
    elif init or not long_running:
        for p in probes:
            if p in c and init:
                fail(where, "%s on an init container (the API rejects it)" % p)
    for p in probes:
        pr = c.get(p)
        if isinstance(pr, dict) and not any(k in pr for k in ("httpGet", "tcpSocket", "exec", "grpc")):
            fail(where, "%s has no handler" % p)
    for a in (c.get("command") or []) + (c.get("args") or []):
        if not isinstance(a, str):
            fail(where, "command/args word is not a string: %r" % (a,))
    check_env(where, c.get("env"), ns, ctx)
    for vm in c.get("volumeMounts") or []:
        if not vm.get("name") or not vm.get("mountPath"):
            fail(where, "volumeMount without name or mountPath")


def check_pod_spec(where, spec, ns, ctx, long_running, template_labels=None):
    if not isinstance(spec, dict):
        fail(where, "no pod spec")
        return
    cs = spec.get("containers")
    if not isinstance(cs, list) or not cs:
        fail(where, "spec.containers is empty")
        cs = []
    names = set()
    for c in (spec.get("initContainers") or []):
        check_container("%s initContainer %s" % (where, c.get("name")), c, ns, ctx, long_running, True)
        names.add(c.get("name"))
    for c in cs:
        if c.get("name") in names:
            fail(where, "container name %s used twice" % c.get("name"))
        names.add(c.get("name"))
        check_container("%s container %s" % (where, c.get("name")), c, ns, ctx, long_running, False)
    vols = {}
    for v in spec.get("volumes") or []:
        vols[v.get("name")] = v
        if "configMap" in v:
            ctx["configmap_refs"].append((where, ns, get(v, "configMap.name")))
        if "secret" in v:
            items = get(v, "secret.items") or []
            sname = get(v, "secret.secretName")
            if not items:
                ctx["secret_refs"].append((where, ns, sname, None, False))
            for it in items:
                ctx["secret_refs"].append((where, ns, sname, it.get("key"), False))
        if "persistentVolumeClaim" in v:
            ctx["pvc_refs"].append((where, ns, get(v, "persistentVolumeClaim.claimName")))
    claim_names = ctx.get("_claims", set())
    for c in (spec.get("initContainers") or []) + cs:
        for vm in c.get("volumeMounts") or []:
            if vm.get("name") not in vols and vm.get("name") not in claim_names:
                fail(where, "container %s mounts undefined volume %s" % (c.get("name"), vm.get("name")))
    sa = spec.get("serviceAccountName")
    if sa:
        ctx["sa_refs"].append((where, ns, sa))
    if not long_running and spec.get("restartPolicy") not in ("Never", "OnFailure"):
        fail(where, "a Job's pod needs restartPolicy Never or OnFailure")


def check_manifest(f, i, d, ctx):
    kind = d.get("kind")
    where = "%s[%d] %s/%s" % (rel(f), i, kind, get(d, "metadata.name", "?"))
    if kind not in KINDS:
        fail(where, "unknown kind %r (add it to the validator with its required fields)" % kind)
        return
    api, namespaced = KINDS[kind]
    if d.get("apiVersion") != api:
        fail(where, "apiVersion %r, expected %s" % (d.get("apiVersion"), api))
    name = get(d, "metadata.name")
    if not isinstance(name, str) or not name:
        fail(where, "metadata.name missing")
        return
    if "{{" not in name and not DNS1123.match(name):
        fail(where, "metadata.name %r is not a DNS-1123 name" % name)
    ns = get(d, "metadata.namespace")
    if namespaced:
        if ns not in NAMESPACES:
            fail(where, "namespace %r is not one of %s" % (ns, sorted(NAMESPACES)))
    elif ns is not None:
        fail(where, "cluster-scoped %s has a namespace" % kind)
    key = (kind, ns, name)
    if key in ctx["objects"]:
        fail(where, "defined twice")
    ctx["objects"][key] = (f, d)
    spec = d.get("spec") or {}

    if kind in WORKLOADS:
        sel = get(spec, "selector.matchLabels")
        labels = get(spec, "template.metadata.labels") or {}
        if not isinstance(sel, dict) or not sel:
            fail(where, "spec.selector.matchLabels missing")
        else:
            for k, v in sel.items():
                if labels.get(k) != v:
                    fail(where, "selector %s=%s does not match the template labels" % (k, v))
        if kind == "StatefulSet":
            if not spec.get("serviceName"):
                fail(where, "spec.serviceName missing")
            else:
                ctx["headless_refs"].append((where, ns, spec["serviceName"]))
            ctx["_claims"] = set()
            for vct in spec.get("volumeClaimTemplates") or []:
                ctx["_claims"].add(get(vct, "metadata.name"))
                sc = get(vct, "spec.storageClassName")
                ctx["sc_refs"].append((where, sc))
                if not get(vct, "spec.resources.requests.storage"):
                    fail(where, "volumeClaimTemplate without a storage request")
                if not get(vct, "spec.accessModes"):
                    fail(where, "volumeClaimTemplate without accessModes")
        else:
            ctx["_claims"] = set()
        if not isinstance(spec.get("replicas", 1), int):
            fail(where, "spec.replicas is not an integer")
        ctx["pod_templates"].append((ns, labels, where))
        check_pod_spec(where, get(spec, "template.spec"), ns, ctx, True)
    elif kind == "Job":
        ctx["_claims"] = set()
        check_pod_spec(where, get(spec, "template.spec"), ns, ctx, False)
        ctx["pod_templates"].append((ns, get(spec, "template.metadata.labels") or {}, where))
    elif kind == "CronJob":
        ctx["_claims"] = set()
        if not spec.get("schedule"):
            fail(where, "spec.schedule missing")
        check_pod_spec(where, get(spec, "jobTemplate.spec.template.spec"), ns, ctx, False)
    elif kind == "Service":
        ports = spec.get("ports")
        if not isinstance(ports, list) or not ports:
            fail(where, "spec.ports missing")
            ports = []
        for p in ports:
            if not isinstance(p.get("port"), int):
                fail(where, "a port without a numeric port")
            if len(ports) > 1 and not p.get("name"):
                fail(where, "several ports need names")
            if "nodePort" in p:
                if spec.get("type") != "NodePort":
                    fail(where, "nodePort on a Service that is not type NodePort")
                if not 30000 <= p["nodePort"] <= 32767:
                    fail(where, "nodePort %s outside 30000-32767" % p["nodePort"])
                ctx["nodeports"].append((where, p["nodePort"]))
        if spec.get("selector"):
            ctx["svc_selectors"].append((where, ns, spec["selector"]))
        else:
            fail(where, "Service without a selector")
    elif kind == "ConfigMap":
        for k, v in (d.get("data") or {}).items():
            if not isinstance(v, str):
                fail(where, "data.%s is not a string" % k)
            elif re.search(r"<password>[^<]+</password>", v):
                fail(where, "data.%s holds a literal password (use from_env)" % k)
    elif kind == "StorageClass":
        if not d.get("provisioner"):
            fail(where, "provisioner missing")
        if d.get("volumeBindingMode") not in ("WaitForFirstConsumer", "Immediate"):
            fail(where, "volumeBindingMode missing or invalid")
    elif kind == "PersistentVolumeClaim":
        ctx["sc_refs"].append((where, spec.get("storageClassName")))
        if not get(spec, "resources.requests.storage"):
            fail(where, "no storage request")
    elif kind in ("Role", "ClusterRole"):
        rules = d.get("rules")
        if not isinstance(rules, list) or not rules:
            fail(where, "rules missing")
        for r in rules or []:
            if not r.get("verbs"):
                fail(where, "a rule without verbs")
            if "*" in (r.get("verbs") or []) or "*" in (r.get("resources") or []):
                fail(where, "wildcard in a rule (least privilege)")
            if not r.get("resources") and not r.get("nonResourceURLs"):
                fail(where, "a rule without resources")
            if "resources" in r and "apiGroups" not in r:
                fail(where, "a rule without apiGroups")
    elif kind in ("RoleBinding", "ClusterRoleBinding"):
        rr = d.get("roleRef") or {}
        if rr.get("apiGroup") != "rbac.authorization.k8s.io" or rr.get("kind") not in ("Role", "ClusterRole") \
                or not rr.get("name"):
            fail(where, "roleRef incomplete")
        elif kind == "ClusterRoleBinding" and rr.get("kind") != "ClusterRole":
            fail(where, "a ClusterRoleBinding must reference a ClusterRole")
        else:
            ctx["role_refs"].append((where, ns if rr["kind"] == "Role" else None, rr["kind"], rr["name"]))
        subs = d.get("subjects")
        if not subs:
            fail(where, "subjects missing")
        for s in subs or []:
            if s.get("kind") == "ServiceAccount":
                if not s.get("namespace"):
                    fail(where, "ServiceAccount subject without a namespace")
                ctx["subject_refs"].append((where, s.get("namespace"), s.get("name")))
    elif kind == "NetworkPolicy":
        if "podSelector" not in spec:
            fail(where, "spec.podSelector missing")
        if not spec.get("policyTypes"):
            fail(where, "spec.policyTypes missing")
    elif kind == "PodDisruptionBudget":
        if not get(spec, "selector.matchLabels"):
            fail(where, "spec.selector missing")
    elif kind == "SparkApplication":
        for k in ("type", "mode", "image", "mainApplicationFile", "sparkVersion"):
            if not spec.get(k):
                fail(where, "spec.%s missing" % k)
        image_pinned(where, spec.get("image"))
        if spec.get("type") == "Python":
            ctx["spark_main"].append((where, spec.get("mainApplicationFile")))
        for role in ("driver", "executor"):
            r = spec.get(role) or {}
            for k in ("cores", "coreLimit", "memory"):
                if not r.get(k):
                    fail(where, "spec.%s.%s missing (the pod's resources)" % (role, k))
            check_env("%s %s" % (where, role), r.get("env"), ns, ctx)
        if not get(spec, "driver.serviceAccount"):
            fail(where, "spec.driver.serviceAccount missing")
        else:
            ctx["sa_refs"].append((where, ns, get(spec, "driver.serviceAccount")))
        for v in spec.get("volumes") or []:
            if "configMap" in v:
                ctx["configmap_refs"].append((where, ns, get(v, "configMap.name")))
        for pkg in get(spec, "deps.packages") or []:
            if not re.fullmatch(r"[\w.-]+:[\w.-]+:\d[\w.-]*", pkg):
                fail(where, "package %s is not group:artifact:version" % pkg)
        if not get(spec, "restartPolicy.type"):
            fail(where, "spec.restartPolicy missing")


def check_cross_refs(ctx, secrets):
    objs = ctx["objects"]
    names = {(k, ns): set() for k in KINDS for ns in list(NAMESPACES) + [None]}
    for (k, ns, n) in objs:
        names[(k, ns)].add(n)
    for ns, n in ctx["generated_configmaps"]:
        names[("ConfigMap", ns)].add(n)
    for where, ns, n in ctx["sa_refs"]:
        if n not in names[("ServiceAccount", ns)] and (ns, n) not in CHART_SAS:
            fail(where, "ServiceAccount %s/%s is not defined" % (ns, n))
    for where, ns, n in ctx["subject_refs"]:
        if n not in names[("ServiceAccount", ns)] and (ns, n) not in CHART_SAS:
            fail(where, "subject ServiceAccount %s/%s is not defined" % (ns, n))
    for where, ns, n in ctx["configmap_refs"]:
        if n not in names[("ConfigMap", ns)]:
            fail(where, "ConfigMap %s/%s is not defined (manifest or kustomize generator)" % (ns, n))
    for where, ns, n in ctx["pvc_refs"]:
        if n not in names[("PersistentVolumeClaim", ns)]:
            fail(where, "PersistentVolumeClaim %s/%s is not defined" % (ns, n))
    classes = names[("StorageClass", None)]
    for where, sc in ctx["sc_refs"]:
        if sc not in classes:
            fail(where, "storageClassName %r is not one of %s" % (sc, sorted(classes)))
    for where, ns, kind, n in ctx["role_refs"]:
        if n not in names[(kind, ns)]:
            fail(where, "roleRef %s %s is not defined" % (kind, n))
    for where, ns, n in ctx["headless_refs"]:
        d = objs.get(("Service", ns, n))
        if not d:
            fail(where, "serviceName %s: no such Service" % n)
        elif get(d[1], "spec.clusterIP") != "None":
            fail(where, "serviceName %s is not a headless Service (clusterIP: None)" % n)
    for where, ns, sel in ctx["svc_selectors"]:
        if not any(pns == ns and all(lab.get(k) == v for k, v in sel.items() if
                                     k != "statefulset.kubernetes.io/pod-name")
                   for pns, lab, _ in ctx["pod_templates"]):
            if not any(ns == cns and all(cl.get(k) == v for k, v in sel.items()) for cns, cl in CHART_PODS):
                fail(where, "selector %s matches no pod template in %s" % (sel, ns))
    # Secrets: every non-optional reference names a Secret the plan creates
    # in that namespace, and a key its env file template defines.
    for where, ns, n, key, optional in ctx["secret_refs"]:
        if optional:
            continue
        if (ns, n) not in secrets:
            fail(where, "Secret %s/%s is not created by plan.yaml's secrets stage" % (ns, n))
        elif key is not None and key not in secrets[(ns, n)]:
            fail(where, "Secret %s/%s has no key %s (keys: %s)" % (ns, n, key, sorted(secrets[(ns, n)])))
    ok("manifest: cross-references checked (%d secret refs, %d ConfigMap refs, %d selectors)" %
       (len(ctx["secret_refs"]), len(ctx["configmap_refs"]), len(ctx["svc_selectors"])))


# Manifests that no plan step applies, and what applies them instead.
APPLIED_ELSEWHERE = {
    "deploy/spark/batch-app.yaml": ("deploy/airflow/dags/lambda_batch_daily.py", 'application_file="batch-app.yaml"'),
}

# ServiceAccounts and pod labels that Helm charts create (not in our manifests).
CHART_SAS = {("orchestration", "airflow-worker")}
CHART_NODEPORTS = []
CHART_PODS = [("orchestration", {"component": "webserver"}), ("orchestration", {"component": "statsd"}),
              ("processing", {"app.kubernetes.io/name": "spark-operator"})]


# --- kind config, kustomizations -------------------------------------------------

def check_kind_config(kc, ctx):
    where = "deploy/kind/kind-config.yaml"
    if kc.get("kind") != "Cluster" or kc.get("apiVersion") != "kind.x-k8s.io/v1alpha4":
        fail(where, "not a kind Cluster v1alpha4")
        return
    nodes = kc.get("nodes") or []
    roles = [n.get("role") for n in nodes]
    if roles.count("control-plane") != 1 or roles.count("worker") != 3:
        fail(where, "want 1 control-plane + 3 workers, have %s" % roles)
    mapped = set()
    for n in nodes:
        image_pinned(where, n.get("image"))
        for m in n.get("extraPortMappings") or []:
            if m.get("containerPort") != m.get("hostPort"):
                fail(where, "port mapping %s != %s" % (m.get("containerPort"), m.get("hostPort")))
            if m.get("listenAddress") != "127.0.0.1":
                fail(where, "port %s published beyond 127.0.0.1" % m.get("hostPort"))
            mapped.add(m.get("containerPort"))
    used = set(ctx["chart_nodeports"])
    for w, p in ctx["nodeports"]:
        used.add(p)
        if p not in mapped:
            fail(w, "nodePort %d is not published by kind-config.yaml" % p)
    for p in sorted(mapped - used):
        fail(where, "port %d is published but no Service uses it" % p)
    ok("kind: 1 control plane + 3 workers, %d published ports, all used" % len(mapped))


def check_kustomizations(kus, ctx):
    applied = set()
    for f, k in kus.items():
        d = os.path.dirname(f)
        where = rel(f)
        if k.get("apiVersion") != "kustomize.config.k8s.io/v1beta1" or k.get("kind") != "Kustomization":
            fail(where, "not a Kustomization v1beta1")
        ns = k.get("namespace")
        for r in k.get("resources") or []:
            p = os.path.join(d, r)
            if not os.path.isfile(p):
                fail(where, "resource %s does not exist" % r)
            applied.add(os.path.normpath(p))
        for g in k.get("configMapGenerator") or []:
            ctx["generated_configmaps"].append((ns, g.get("name")))
            for fl in g.get("files") or []:
                src = fl.split("=", 1)[-1]
                if not os.path.isfile(os.path.join(d, src)):
                    fail(where, "configMapGenerator file %s does not exist" % src)
    return applied


def check_kustomize_render(kus, tmp):
    """Renders every kustomization with kubectl's built-in kustomize
    (offline): what `kubectl apply -k` would send must build and parse."""
    kubectl = shutil.which("kubectl")
    if not kubectl:
        skip("kustomize", "kubectl not installed: kustomizations not rendered")
        return
    for f in sorted(kus):
        d = os.path.dirname(f)
        r = subprocess.run([kubectl, "kustomize", d], capture_output=True, text=True, timeout=60,
                           env=dict(os.environ, KUBECONFIG=os.path.join(tmp, "none"),
                                    HOME=tmp))
        if r.returncode != 0:
            fail(rel(f), "kubectl kustomize failed: %s" % r.stderr.strip()[:300])
            continue
        docs = [x for x in yaml.safe_load_all(r.stdout) if x]
        for x in docs:
            if get(x, "metadata.namespace") not in NAMESPACES and \
                    KINDS.get(x.get("kind"), ("", True))[1]:
                fail(rel(f), "rendered %s/%s outside the pipeline namespaces"
                     % (x.get("kind"), get(x, "metadata.name")))
    ok("kustomize: %d kustomizations render with kubectl kustomize" % len(kus))


def check_prometheus_config(manifests, tmp):
    """promtool check config on the Prometheus ConfigMap. Debian's
    Prometheus is built without Kubernetes service discovery, so those
    jobs are checked with a static target in its place (relabelling,
    paths, auth and every other key are checked as written), and the
    ServiceAccount files are stand-ins in the temp dir."""
    promtool = shutil.which("promtool")
    cm = [d for f, i, d in manifests if d.get("kind") == "ConfigMap" and
          get(d, "metadata.name") == "prometheus-config"]
    if not promtool or not cm:
        skip("promtool", "promtool not installed" if not promtool else "no prometheus-config ConfigMap")
        return
    text = cm[0]["data"]["prometheus.yml"]
    sa = os.path.join(tmp, "sa")
    os.makedirs(sa, exist_ok=True)
    for n in ("token", "ca.crt"):
        open(os.path.join(sa, n), "w").write("stand-in\n")
    text = text.replace("/var/run/secrets/kubernetes.io/serviceaccount", sa)
    c = yaml.safe_load(text)
    n_sd = 0
    for j in c.get("scrape_configs") or []:
        if j.pop("kubernetes_sd_configs", None) is not None:
            j["static_configs"] = [{"targets": ["127.0.0.1:1"]}]
            n_sd += 1
    path = os.path.join(tmp, "prometheus.yml")
    with open(path, "w") as fh:
        yaml.safe_dump(c, fh, sort_keys=False)
    r = subprocess.run([promtool, "check", "config", path], capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        fail("deploy/monitoring/prometheus.yaml", "promtool check config: %s"
             % (r.stdout + r.stderr).strip().replace("\n", " ")[:400])
    else:
        ok("prometheus: promtool check config passes (%d jobs, %d with kubernetes_sd swapped for a static target)"
           % (len(c.get("scrape_configs") or []), n_sd))


# Real MBean attributes as jmx_exporter formats them for matching
# ("domain<key=value, ...><>attribute: value"), one per metric the pipeline
# relies on.
JMX_SAMPLES = {
    "kafka.yml": [
        "kafka.server<type=raft-metrics><>current-leader: 1.0",
        "kafka.server<type=raft-metrics><>current-epoch: 7.0",
        "kafka.server<type=raft-metrics><>high-watermark: 1234.0",
        "kafka.server<type=raft-metrics><>log-end-offset: 1234.0",
        "kafka.server<type=raft-metrics><>current-state: leader",
        "kafka.server<type=ReplicaManager, name=UnderReplicatedPartitions><>Value: 0.0",
        "kafka.server<type=ReplicaManager, name=UnderMinIsrPartitionCount><>Value: 0.0",
        "kafka.controller<type=KafkaController, name=ActiveControllerCount><>Value: 1.0",
        "kafka.server<type=BrokerTopicMetrics, name=MessagesInPerSec, topic=shop.public.orders><>Count: 99.0",
        "kafka.server<type=BrokerTopicMetrics, name=MessagesInPerSec><>Count: 99.0",
    ],
    "connect.yml": [
        "kafka.connect<type=connector-metrics, connector=debezium-shop><>status: running",
        "kafka.connect<type=connector-task-metrics, connector=s3-sink, task=0><>status: running",
        "debezium.postgres<type=connector-metrics, context=streaming, server=shop><>MilliSecondsBehindSource: 12.0",
    ],
}


def jmx_apply(rules, lowercase, sample):
    """jmx_exporter's rule matching for one sample: patterns are not
    anchored (it compiles "^.*(?:" + pattern + ").*$"); the first rule that
    matches names the metric ($n substituted, invalid characters to '_',
    lower-cased when asked) and its labels."""
    for r in rules:
        m = re.fullmatch(r"^.*(?:" + r["pattern"] + r").*$", sample)
        if not m:
            continue

        def fill(t):
            return re.sub(r"\$(\d)", lambda g: m.group(int(g.group(1))), t)
        name = re.sub(r"[^a-zA-Z0-9:_]", "_", fill(r["name"]))
        labels = {k: fill(v) for k, v in (r.get("labels") or {}).items()}
        return (name.lower() if lowercase else name), labels
    return None, None


def check_jmx_rules(manifests, sources):
    """The exporter rules produce the names that lambdaops reads: the raft
    metrics its prometheus collector queries for the quorum, and every
    kafka_/debezium_ metric of the PromQL in deploy/lambdaops.yaml."""
    produced = {}
    for f, i, d in manifests:
        if d.get("kind") != "ConfigMap":
            continue
        for key, text in (d.get("data") or {}).items():
            if key not in JMX_SAMPLES and not key.endswith(".yml"):
                continue
            if "rules:" not in text:
                continue
            where = "%s %s" % (rel(f), key)
            cfg = yaml.safe_load(text)
            for r in cfg.get("rules") or []:
                try:
                    re.compile(r["pattern"])
                except re.error as e:
                    fail(where, "pattern %r does not compile: %s" % (r["pattern"], e))
                    return
            for s in JMX_SAMPLES.get(key, []):
                name, labels = jmx_apply(cfg["rules"], cfg.get("lowercaseOutputName"), s)
                if not name:
                    fail(where, "no rule exports %s" % s)
                    continue
                produced.setdefault(name, []).append(labels)
    # the prometheus collector's quorum query (collectors/prometheus.c prom_raft_query)
    for attr in ("current_leader", "current_epoch", "high_watermark", "log_end_offset", "current_state"):
        if "kafka_server_raft_metrics_" + attr not in produced:
            fail("deploy/kafka/jmx-exporter.yaml", "kafka_server_raft_metrics_%s is not exported" % attr)
    if {"state": "leader"} not in produced.get("kafka_server_raft_metrics_current_state", []):
        fail("deploy/kafka/jmx-exporter.yaml", "current_state has no state=\"leader\" label")
    others = ("kafka_consumergroup_", "kubelet_", "up")
    for s in sources.values():
        if s.get("kind") != "prometheus":
            continue
        for q in s.get("queries") or []:
            for m in re.findall(r"\b((?:kafka|debezium)_[a-z0-9_]+)", q["expr"]):
                if m.startswith(others):
                    continue
                if m not in produced:
                    fail("deploy/lambdaops.yaml", "query %s reads %s, which no exporter rule produces"
                         % (q["name"], m))
    ok("jmx: exporter rules produce the raft metrics and every kafka_/debezium_ metric lambdaops queries "
       "(%d names)" % len(produced))


# --- plan.yaml -----------------------------------------------------------------

DURATION = re.compile(r"^\d+(\.\d{1,6})?(ms|s|m|h|d)$")
STAGE_NAME = re.compile(r"^[a-z0-9-]+$")
PROGRAMS = {"kind", "kubectl", "helm", "lambdaops", "curl"}
SHELLS = {"sh", "bash", "dash", "zsh", "ksh", "/bin/sh", "/bin/bash", "env", "xargs", "eval"}


def check_plan(plan, sources, manifest_files, kustomize_dirs):
    where = "deploy/plan.yaml"
    if plan.get("version") != 1:
        fail(where, "version must be 1")
    if plan.get("config") != "lambdaops.yaml":
        fail(where, "config must name lambdaops.yaml")
    variables = dict(plan.get("vars") or {})
    if "deploy" in variables:
        fail(where, "vars: `deploy` is built in")
    variables["deploy"] = DEPLOY
    for k in ("step_timeout", "gate_timeout"):
        v = get(plan, "defaults." + k)
        if v is not None and not DURATION.match(str(v)):
            fail(where, "defaults.%s: bad duration %r" % (k, v))
    seen = set()
    applied_files, applied_dirs, secrets = set(), set(), {}
    stages = plan.get("stages") or []
    if not stages:
        fail(where, "no stages")

    def subst(word, w):
        def rep(m):
            if m.group(1) not in variables:
                fail(w, "undefined variable ${%s}" % m.group(1))
                return m.group(0)
            return str(variables[m.group(1)])
        return re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", rep, word)

    def check_argv(argv, w, kind):
        if not isinstance(argv, list) or not argv or not all(isinstance(a, str) for a in argv):
            fail(w, "%s must be a non-empty list of strings" % kind)
            return []
        words = [subst(a, w) for a in argv]
        prog = words[0]
        if prog in SHELLS or os.path.basename(prog) in SHELLS:
            fail(w, "%s runs a shell (%s): argv only" % (kind, prog))
        if prog not in PROGRAMS:
            fail(w, "%s runs %s (expected one of %s)" % (kind, prog, sorted(PROGRAMS)))
        for a in words:
            for m in re.finditer(re.escape(DEPLOY) + r"[^\s,]*", a):
                p = m.group(0)
                # deploy/secrets/*.env are made by the user from the
                # templates (and never committed): the template must exist.
                if a.startswith("--from-env-file=") and os.path.exists(p + ".example"):
                    continue
                if not os.path.exists(p):
                    fail(w, "%s names %s, which does not exist" % (kind, os.path.relpath(p, ROOT)))
        if prog == "kubectl" and "--context" not in words[:3]:
            fail(w, "kubectl without --context first")
        if prog == "helm":
            if "--kube-context" not in words:
                fail(w, "helm without --kube-context")
            if ("upgrade" in words or "install" in words):
                if "--version" not in words:
                    fail(w, "helm chart not pinned (--version)")
                else:
                    v = words[words.index("--version") + 1]
                    if not re.fullmatch(r"\d+\.\d+\.\d+", v):
                        fail(w, "helm chart version %s is not exact" % v)
        return words

    for si, st in enumerate(stages):
        n = st.get("name")
        w = "%s stage %s" % (where, n)
        if not isinstance(n, str) or not STAGE_NAME.match(n):
            fail(where, "stage %d: bad name %r" % (si + 1, n))
        if n in seen:
            fail(w, "duplicate stage name")
        seen.add(n)
        if not st.get("title"):
            fail(w, "no title")
        if not st.get("steps"):
            fail(w, "no steps")
        for ki, s in enumerate(st.get("steps") or []):
            sw = "%s step %d" % (w, ki + 1)
            unknown = set(s) - {"run", "timeout", "dangerous", "mutating", "skip_if_exit0", "env"}
            if unknown:
                fail(sw, "unknown keys %s" % sorted(unknown))
            if "timeout" in s and not DURATION.match(str(s["timeout"])):
                fail(sw, "bad timeout %r" % s["timeout"])
            words = check_argv(s.get("run"), sw, "run")
            if "skip_if_exit0" in s:
                check_argv(s["skip_if_exit0"], sw, "skip_if_exit0")
            if words[:1] == ["kubectl"] and ("apply" in words or "create" in words):
                for flag in ("-f", "-k"):
                    if flag in words:
                        p = os.path.normpath(words[words.index(flag) + 1])
                        (applied_files if flag == "-f" else applied_dirs).add(p)
                if "secret" in words and "generic" in words:
                    ns = words[words.index("-n") + 1]
                    name = words[words.index("generic") + 1]
                    envf = [a for a in words if a.startswith("--from-env-file=")]
                    if not envf:
                        fail(sw, "a Secret not created from an env file")
                        continue
                    f = envf[0].split("=", 1)[1]
                    example = f + ".example"
                    if not os.path.isfile(example):
                        fail(sw, "%s has no template %s" % (f, os.path.relpath(example, ROOT)))
                        continue
                    keys = set()
                    for line in open(example):
                        line = line.strip()
                        if line and not line.startswith("#"):
                            keys.add(line.split("=", 1)[0])
                    secrets[(ns, name)] = keys
                if "--from-literal" in " ".join(words):
                    fail(sw, "a secret on the command line (--from-literal)")
        for g in st.get("gates") or []:
            gw = "%s gate %r" % (w, g.get("name"))
            for k in ("name", "source", "expr"):
                if not g.get(k):
                    fail(gw, "%s missing" % k)
            if g.get("source") and g["source"] not in sources:
                fail(gw, "source %s is not in deploy/lambdaops.yaml" % g["source"])
            if "timeout" in g and not DURATION.match(str(g["timeout"])):
                fail(gw, "bad timeout")
            e = g.get("expr") or ""
            if e.count("(") != e.count(")") or e.count('"') % 2:
                fail(gw, "unbalanced parentheses or quotes")
        if not st.get("down"):
            fail(w, "no down steps")
        for ki, s in enumerate(st.get("down") or []):
            check_argv(s.get("run"), "%s down %d" % (w, ki + 1), "run")
    # Every manifest file is applied by some step (directly or via -k).
    for f in sorted(manifest_files):
        nf = os.path.normpath(f)
        if nf in applied_files:
            continue
        if rel(nf) in APPLIED_ELSEWHERE:
            who, needle = APPLIED_ELSEWHERE[rel(nf)]
            if needle not in open(os.path.join(ROOT, who)).read():
                fail(rel(f), "expected to be applied by %s, which does not name it" % who)
            continue
        d = os.path.dirname(nf)
        if d in applied_dirs and nf in kustomize_dirs.get(d, set()):
            continue
        fail(rel(f), "no plan step applies this file")
    for d in sorted(applied_dirs):
        if not os.path.isfile(os.path.join(d, "kustomization.yaml")):
            fail(where, "kubectl -k %s: no kustomization.yaml" % rel(d))
    ok("plan: %d stages, steps argv-only, paths exist, gates name known sources" % len(stages))
    return secrets, [s.get("name") for s in stages]


# --- lambdaops configs -------------------------------------------------------------

def env_example_vars():
    keys = set()
    for f in glob.glob(os.path.join(DEPLOY, "secrets", "*.env.example")):
        for line in open(f):
            line = line.strip()
            if line and not line.startswith("#"):
                keys.add(line.split("=", 1)[0])
    return keys


def check_lambdaops_configs(cfgs):
    defined = env_example_vars()
    sources = {}
    for f, c in cfgs.items():
        where = rel(f)
        names = set()
        for s in c.get("sources") or []:
            n = s.get("name")
            if n in names:
                fail(where, "duplicate source %s" % n)
            names.add(n)
            for k, v in s.items():
                if re.search(r"(password|secret|token|api_key|private_key)$", k) and not k.endswith(("_env", "_file")):
                    fail(where, "source %s: %s holds a secret inline (use %s_env)" % (n, k, k))
                if k.endswith("_env") and v not in defined:
                    fail(where, "source %s: %s names %s, which no deploy/secrets/*.env.example defines"
                         % (n, k, v))
                if k in ("dsn", "url") and re.search(r"password=|://[^/@]+:[^/@]+@", str(v)):
                    fail(where, "source %s: credentials in %s" % (n, k))
        if f.endswith("deploy/lambdaops.yaml"):
            sources = {s.get("name"): s for s in c.get("sources") or []}
            for s in sources.values():
                # kind bringup: `plan` is relative to the config file's directory
                if s.get("kind") == "bringup" and not os.path.isfile(os.path.join(os.path.dirname(f), str(s.get("plan")))):
                    fail(where, "source %s: plan %s does not exist relative to the config file"
                         % (s.get("name"), s.get("plan")))
    ok("config: secrets only via *_env, every variable defined by deploy/secrets/*.env.example")
    return sources


# --- JSON, Python, Helm values, dbt ----------------------------------------------------

def check_json():
    n = 0
    for f in sorted(glob.glob(os.path.join(DEPLOY, "**", "*.json"), recursive=True)):
        n += 1
        try:
            d = json.load(open(f))
        except ValueError as e:
            fail(rel(f), "JSON does not parse: %s" % e)
            continue
        if "/connect/connectors/" in f:
            if not isinstance(d, dict) or "connector.class" not in d:
                fail(rel(f), "a connector config needs connector.class")
                continue
            for k, v in d.items():
                if not isinstance(v, str):
                    fail(rel(f), "%s: Connect configs are strings" % k)
                if re.search(r"password|secret", k, re.I) and not re.fullmatch(r"\$\{(dir|file|env):[^}]+\}", str(v)):
                    fail(rel(f), "%s is not taken from a config provider" % k)
    ok("json: %d files parse; connector secrets come from config providers" % n)


def check_python():
    files = sorted(glob.glob(os.path.join(DEPLOY, "**", "*.py"), recursive=True))
    with tempfile.TemporaryDirectory() as td:
        for f in files:
            try:
                py_compile.compile(f, cfile=os.path.join(td, "x.pyc"), doraise=True)
            except py_compile.PyCompileError as e:
                fail(rel(f), "does not compile: %s" % e.msg.strip())
    # Images and ConfigMaps the DAG's pods use: pinned, and defined.
    for f in files:
        if "/airflow/dags/" not in f:
            continue
        src = open(f).read()
        for img in re.findall(r'^[A-Z_]*IMAGE = "([^"]+)"', src, re.M):
            image_pinned(rel(f), img)
        if not re.search(r'^[A-Z_]*IMAGE = "', src, re.M):
            fail(rel(f), "no *_IMAGE constants (pods of the DAG must use pinned images)")
    ok("python: %d files compile; the DAG's images are pinned" % len(files))
    return files


def check_values(values):
    def walk(where, d):
        if isinstance(d, dict):
            if isinstance(d.get("nodePort"), int):
                CHART_NODEPORTS.append(d["nodePort"])
            if "repository" in d and "tag" in d:
                image_pinned(where, "%s:%s" % (d["repository"], d["tag"]))
            for k, v in d.items():
                if re.search(r"password|secret", str(k), re.I) and isinstance(v, str) and v \
                        and not k.endswith(("Name", "SecretName")):
                    fail(where, "%s holds a secret inline" % k)
                walk(where, v)
        elif isinstance(d, list):
            for v in d:
                walk(where, v)
    for f, v in values.items():
        walk(rel(f), v)
    ok("values: %d Helm values files, images pinned, no inline secret" % len(values))


def check_dbt(files):
    d = os.path.join(DEPLOY, "dbt")
    proj = files.get(os.path.join(d, "dbt_project.yml"))
    prof = files.get(os.path.join(d, "profiles.yml"))
    if not proj or not prof:
        fail("deploy/dbt", "dbt_project.yml or profiles.yml missing")
        return
    for k in ("name", "profile", "config-version"):
        if k not in proj:
            fail("deploy/dbt/dbt_project.yml", "%s missing" % k)
    outs = get(prof, proj.get("profile") + ".outputs") or {}
    if set(outs) != {"postgres", "snowflake"}:
        fail("deploy/dbt/profiles.yml", "targets must be exactly postgres and snowflake, have %s" % sorted(outs))
    for t, o in outs.items():
        for k, v in o.items():
            if re.search(r"password|private_key|token", k) and "env_var(" not in str(v):
                fail("deploy/dbt/profiles.yml", "%s.%s not from env_var()" % (t, k))
    models = {os.path.splitext(os.path.basename(p))[0]: p
              for p in glob.glob(os.path.join(d, "models", "**", "*.sql"), recursive=True)}
    tested, sources = set(), set()
    for f, doc in files.items():
        if not f.startswith(os.path.join(d, "models")):
            continue
        for m in doc.get("models") or []:
            if m.get("name") not in models:
                fail(rel(f), "tests for unknown model %s" % m.get("name"))
            if any(c.get("tests") for c in m.get("columns") or []):
                tested.add(m.get("name"))
        for s in doc.get("sources") or []:
            for t in s.get("tables") or []:
                sources.add((s.get("name"), t.get("name")))
    for name, p in models.items():
        sql = open(p).read()
        for r in re.findall(r"ref\(\s*'([^']+)'\s*\)", sql):
            if r not in models:
                fail(rel(p), "ref('%s'): no such model" % r)
        for s, t in re.findall(r"source\(\s*'([^']+)'\s*,\s*'([^']+)'\s*\)", sql):
            if (s, t) not in sources:
                fail(rel(p), "source('%s', '%s') is not declared" % (s, t))
        if name not in tested:
            fail(rel(p), "model %s has no schema tests" % name)
    ok("dbt: %d models, refs and sources resolve, every model tested" % len(models))
    return models


# --- PostgreSQL ----------------------------------------------------------------------

# The seed of 02-shop-seed.sql, computed here independently: orders
# g = 1..10000, amount (g * 37 % 50000) / 100, one every 10 s from the top
# of an hour.
SEED_SUM = sum(Decimal(g * 37 % 50000) / 100 for g in range(1, 10001))
SEED_BUCKETS = len({(g - 1) * 10 // 3600 for g in range(1, 10001)})

PG_ENV = {"DEBEZIUM_PASSWORD": "dbz-test-pw", "LAMBDAOPS_PASSWORD": "lo-test-pw",
          "SPARK_PASSWORD": "spark-test-pw", "DBT_PASSWORD": "dbt-test-pw",
          "AIRFLOW_DB_PASSWORD": "af-test-pw", "LOADGEN_PASSWORD": "load-test-pw"}


def psql(port, db, sql=None, file=None, user="postgres", env=None, csv=False):
    cmd = [os.path.join(PG_BIN, "psql"), "-X", "-h", "127.0.0.1", "-p", str(port), "-U", user,
           "-d", db, "-v", "ON_ERROR_STOP=1", "-q"]
    cmd += ["--csv"] if csv else ["-At"]
    cmd += ["-f", file] if file else ["-c", sql]
    e = dict(os.environ)
    e.update(env or {})
    e["PGCONNECT_TIMEOUT"] = "10"
    r = subprocess.run(cmd, capture_output=True, text=True, env=e, timeout=120)
    return r.returncode, r.stdout.strip(), r.stderr.strip()


def pg_expect(port, db, sql, want, what, user="postgres", env=None):
    rc, out, err = psql(port, db, sql, user=user, env=env)
    if rc != 0:
        fail("postgres", "%s: %s" % (what, err))
    elif out != want:
        fail("postgres", "%s: got %r, want %r" % (what, out, want))
    else:
        ok("postgres: %s = %s" % (what, want.replace("\n", " | ")))


def check_postgres(port):
    files = sorted(glob.glob(os.path.join(DEPLOY, "postgres", "*.sql")))
    for f in files:
        rc, out, err = psql(port, "postgres", file=f, env=PG_ENV)
        if rc != 0:
            fail(rel(f), "failed on PostgreSQL: %s" % err)
            return False
    ok("postgres: %d bootstrap files ran on PostgreSQL (%s)" % (
        len(files), psql(port, "postgres", "SHOW server_version")[1]))
    pg_expect(port, "shop", "SELECT count(*), sum(amount) FROM orders", "10000|%s" % SEED_SUM,
              "seed orders count|sum")
    pg_expect(port, "shop", "SELECT count(*), count(DISTINCT country) FROM customers", "1000|5",
              "seed customers count|countries")
    pg_expect(port, "shop", "SELECT max(created_at) < now() - interval '2 hours' AND "
              "min(created_at) > now() - interval '31 hours' FROM orders", "t",
              "seed inside the reconcile window and settled")
    pg_expect(port, "shop", "SELECT nextval('orders_id_seq')", "10001", "sequence past the seed")
    pg_expect(port, "shop", "SELECT string_agg(schemaname || '.' || tablename, ',' ORDER BY tablename) "
              "FROM pg_publication_tables WHERE pubname = 'dbz_publication'",
              "public.customers,public.debezium_heartbeat,public.orders", "publication tables")
    pg_expect(port, "postgres", "SELECT rolreplication FROM pg_roles WHERE rolname = 'debezium'", "t",
              "debezium has REPLICATION")
    pg_expect(port, "postgres", "SELECT pg_has_role('lambdaops', 'pg_monitor', 'member')", "t",
              "lambdaops in pg_monitor")
    pg_expect(port, "postgres", "SELECT string_agg(datname, ',' ORDER BY datname) FROM pg_database "
              "WHERE datname IN ('shop', 'warehouse', 'iceberg', 'airflow')",
              "airflow,iceberg,shop,warehouse", "databases")
    # From here on every role but postgres needs its password (the test
    # server was initialised with trust): the bootstrap set them from the
    # environment through \getenv.
    if PG_DATA:
        hba = os.path.join(PG_DATA, "pg_hba.conf")
        with open(hba, "w") as fh:      # rewritten in place: owner and mode stay
            fh.write("host all postgres 127.0.0.1/32 trust\n"
                     "host all all 127.0.0.1/32 scram-sha-256\n")
        psql(port, "postgres", "SELECT pg_reload_conf()")
        rc, _, err = psql(port, "shop", "SELECT 1", user="debezium", env={"PGPASSWORD": "wrong"})
        if rc == 0 or "password authentication failed" not in err:
            fail("postgres", "a wrong password was accepted after switching to scram: %s" % err)
        else:
            ok("postgres: scram-sha-256 enforced for the pipeline roles (a wrong password is refused)")
    else:
        skip("postgres passwords", "no --pg-data: logins are checked under trust only")
    for role, var in (("debezium", "DEBEZIUM_PASSWORD"), ("lambdaops", "LAMBDAOPS_PASSWORD"),
                      ("spark", "SPARK_PASSWORD"), ("dbt", "DBT_PASSWORD"),
                      ("airflow", "AIRFLOW_DB_PASSWORD"), ("loadgen", "LOADGEN_PASSWORD")):
        db = {"spark": "iceberg", "dbt": "warehouse", "airflow": "airflow"}.get(role, "shop")
        pg_expect(port, db, "SELECT current_user", role, "%s logs in to %s with $%s" % (role, db, var),
                  user=role, env={"PGPASSWORD": PG_ENV[var]})
    # Debezium's heartbeat query, as the debezium role.
    pg_expect(port, "shop", "INSERT INTO public.debezium_heartbeat (id, ts) VALUES (1, now()) "
              "ON CONFLICT (id) DO UPDATE SET ts = EXCLUDED.ts RETURNING id", "1",
              "heartbeat.action.query as debezium", user="debezium",
              env={"PGPASSWORD": PG_ENV["DEBEZIUM_PASSWORD"]})
    hb = json.load(open(os.path.join(DEPLOY, "connect", "connectors", "debezium-shop.json")))
    if "debezium_heartbeat" not in hb.get("heartbeat.action.query", ""):
        fail("debezium-shop.json", "heartbeat.action.query does not write the heartbeat table")
    # Logical decoding through the publication, as Debezium does (pgoutput).
    pg_expect(port, "shop", "SELECT count(*) FROM pg_create_logical_replication_slot('debezium_shop', "
              "'pgoutput')", "1", "pgoutput slot created by the debezium role", user="debezium",
              env={"PGPASSWORD": PG_ENV["DEBEZIUM_PASSWORD"]})
    psql(port, "shop", "INSERT INTO orders (customer_id, amount) VALUES (1, 9.99)")
    pg_expect(port, "shop", "SELECT count(*) > 0 FROM pg_logical_slot_peek_binary_changes("
              "'debezium_shop', NULL, NULL, 'proto_version', '1', 'publication_names', "
              "'dbz_publication')", "t", "changes decoded through dbz_publication")
    psql(port, "shop", "SELECT pg_drop_replication_slot('debezium_shop')")
    # The load generator's transaction, as its role (pgbench runs this file).
    rc, _, err = psql(port, "shop", file=os.path.join(DEPLOY, "loadgen", "order.sql"), user="loadgen",
                      env={"PGPASSWORD": PG_ENV["LOADGEN_PASSWORD"]})
    if rc != 0:
        fail("deploy/loadgen/order.sql", "fails as role loadgen: %s" % err)
    else:
        pg_expect(port, "shop", "SELECT count(*) FROM orders WHERE id > 10000", "2",
                  "deploy/loadgen/order.sql inserted its order as loadgen (plus the decoding probe)")
    psql(port, "shop", "DELETE FROM orders WHERE id > 10000")
    # lambdaops is read-only.
    rc, _, err = psql(port, "warehouse", "CREATE TABLE marts.x (i int)", user="lambdaops",
                      env={"PGPASSWORD": PG_ENV["LAMBDAOPS_PASSWORD"]})
    if rc == 0 or "read-only" not in err:
        fail("postgres", "lambdaops could write (want a read-only transaction error): %s" % err)
    else:
        ok("postgres: lambdaops sessions are read-only")
    return True


def copy_rows(port_from, db_from, sql, port_to, db_to, table, cols, user_to="postgres", env_to=None):
    """Copies a query's rows between databases with two psql processes
    (COPY TO STDOUT | COPY FROM STDIN), no shell."""
    base = [os.path.join(PG_BIN, "psql"), "-X", "-h", "127.0.0.1", "-v", "ON_ERROR_STOP=1", "-q"]
    src = subprocess.Popen(base + ["-p", str(port_from), "-U", "postgres", "-d", db_from, "-c",
                                   "COPY (%s) TO STDOUT WITH (FORMAT csv)" % sql],
                           stdout=subprocess.PIPE)
    e = dict(os.environ)
    e.update(env_to or {})
    dst = subprocess.run(base + ["-p", str(port_to), "-U", user_to, "-d", db_to, "-c",
                                 "COPY %s (%s) FROM STDIN WITH (FORMAT csv)" % (table, cols)],
                         stdin=src.stdout, capture_output=True, text=True, env=e, timeout=120)
    src.stdout.close()
    src.wait(timeout=60)
    return src.returncode == 0 and dst.returncode == 0, dst.stderr.strip()


def render_dbt(sql, models_schema):
    """The small part of dbt's Jinja the models use: ref() and source()."""
    sql = re.sub(r"\{\{\s*ref\(\s*'([^']+)'\s*\)\s*\}\}", lambda m: "%s.%s" % (models_schema[m.group(1)], m.group(1)), sql)
    sql = re.sub(r"\{\{\s*source\(\s*'([^']+)'\s*,\s*'([^']+)'\s*\)\s*\}\}", r"\1.\2", sql)
    if "{{" in sql or "{%" in sql:
        raise ValueError("Jinja beyond ref()/source() in a model")
    return sql


def check_dbt_on_postgres(port, models):
    """Loads warehouse raw.orders/raw.customers like the batch job would
    (from shop), builds the dbt models in dependency order as dbt does
    (views for staging/intermediate, tables for marts, as role dbt) and runs
    their schema and singular tests."""
    spark_env = {"PGPASSWORD": PG_ENV["SPARK_PASSWORD"]}
    okc, err = copy_rows(port, "shop", "SELECT id, customer_id, status, amount, created_at, updated_at, "
                         "false, id FROM orders", port, "warehouse", "raw.orders_stage",
                         "id, customer_id, status, amount, created_at, updated_at, deleted, source_lsn",
                         user_to="spark", env_to=spark_env)
    okc2, err2 = copy_rows(port, "shop", "SELECT id, email, country, created_at, false, id FROM customers",
                           port, "warehouse", "raw.customers_stage",
                           "id, email, country, created_at, deleted, source_lsn",
                           user_to="spark", env_to=spark_env)
    if not (okc and okc2):
        fail("dbt", "loading the stage tables: %s %s" % (err, err2))
        return False
    # The batch job's own upsert statements (deploy/spark/batch_job.py,
    # taken from its source: pyspark is not needed for them), as role spark,
    # twice: the second run must change nothing.
    src = open(os.path.join(DEPLOY, "spark", "batch_job.py")).read()
    tree = ast.parse(src)
    ns = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == "upsert_sql" or \
                isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "TABLES" for t in node.targets):
            exec(compile(ast.Module(body=[node], type_ignores=[]), "batch_job.py", "exec"), ns)
    if "upsert_sql" not in ns or "TABLES" not in ns:
        fail("deploy/spark/batch_job.py", "upsert_sql() or TABLES not found")
        return False
    for attempt in (1, 2):
        for table, spec in ns["TABLES"].items():
            rc, _, err = psql(port, "warehouse", ns["upsert_sql"]("postgres", table, spec["columns"]),
                              user="spark", env=spark_env)
            if rc != 0:
                fail("deploy/spark/batch_job.py", "upsert into raw.%s on PostgreSQL: %s" % (table, err))
                return False
    pg_expect(port, "warehouse", "SELECT (SELECT count(*) FROM raw.orders), (SELECT sum(amount) FROM raw.orders), "
              "(SELECT count(*) FROM raw.customers)", "10000|%s|1000" % SEED_SUM,
              "batch job upserts (run twice) into raw.orders|sum|raw.customers")
    # An older change (lower source LSN) never overwrites a newer one.
    psql(port, "warehouse", "TRUNCATE raw.orders_stage", user="spark", env=spark_env)
    psql(port, "warehouse", "INSERT INTO raw.orders_stage SELECT id, customer_id, 'cancelled', 0, created_at, "
         "updated_at, false, source_lsn - 1 FROM raw.orders WHERE id = 1", user="spark", env=spark_env)
    psql(port, "warehouse", ns["upsert_sql"]("postgres", "orders", ns["TABLES"]["orders"]["columns"]),
         user="spark", env=spark_env)
    pg_expect(port, "warehouse", "SELECT status, amount FROM raw.orders WHERE id = 1", "paid|0.37",
              "an older change does not overwrite a newer one")
    psql(port, "warehouse", "UPDATE raw.orders_stage SET source_lsn = source_lsn + 2, amount = 0.37",
         user="spark", env=spark_env)
    psql(port, "warehouse", ns["upsert_sql"]("postgres", "orders", ns["TABLES"]["orders"]["columns"]),
         user="spark", env=spark_env)
    pg_expect(port, "warehouse", "SELECT status, amount, source_lsn FROM raw.orders WHERE id = 1",
              "cancelled|0.37|2", "a newer change replaces the row")
    proj = yaml.safe_load(open(os.path.join(DEPLOY, "dbt", "dbt_project.yml")))
    cfg = get(proj, "models." + proj["name"]) or {}
    schema_of = {}
    mat_of = {}
    for name, p in models.items():
        layer = os.path.basename(os.path.dirname(p))
        schema_of[name] = cfg[layer]["+schema"]
        mat_of[name] = cfg[layer]["+materialized"]
    order, seen = [], set()

    def visit(n):
        if n in seen:
            return
        seen.add(n)
        for r in re.findall(r"ref\(\s*'([^']+)'\s*\)", open(models[n]).read()):
            visit(r)
        order.append(n)
    for n in sorted(models):
        visit(n)
    dbt_env = {"PGPASSWORD": PG_ENV["DBT_PASSWORD"]}
    for n in order:
        body = render_dbt(open(models[n]).read(), schema_of)
        kind = "VIEW" if mat_of[n] == "view" else "TABLE"
        rc, _, err = psql(port, "warehouse", "CREATE %s %s.%s AS %s" % (kind, schema_of[n], n, body),
                          user="dbt", env=dbt_env)
        if rc != 0:
            fail(rel(models[n]), "does not build on PostgreSQL: %s" % err)
            return False
    ok("dbt: %d models built on the warehouse in order %s" % (len(order), ", ".join(order)))
    # Schema tests, as dbt compiles them.
    ntests = 0
    for f in sorted(glob.glob(os.path.join(DEPLOY, "dbt", "models", "**", "*.yml"), recursive=True)):
        doc = yaml.safe_load(open(f))
        for m in doc.get("models") or []:
            rel_name = "%s.%s" % (schema_of[m["name"]], m["name"])
            for c in m.get("columns") or []:
                for t in c.get("tests") or []:
                    col = c["name"]
                    if t == "unique":
                        q = "SELECT count(*) FROM (SELECT %s FROM %s GROUP BY 1 HAVING count(*) > 1) x" % (col, rel_name)
                    elif t == "not_null":
                        q = "SELECT count(*) FROM %s WHERE %s IS NULL" % (rel_name, col)
                    elif isinstance(t, dict) and "accepted_values" in t:
                        vals = ",".join("'%s'" % v for v in t["accepted_values"]["values"])
                        q = "SELECT count(*) FROM %s WHERE %s NOT IN (%s)" % (rel_name, col, vals)
                    elif isinstance(t, dict) and "relationships" in t:
                        to = re.match(r"ref\('([^']+)'\)", t["relationships"]["to"]).group(1)
                        q = ("SELECT count(*) FROM %s c LEFT JOIN %s.%s p ON c.%s = p.%s WHERE c.%s IS NOT NULL "
                             "AND p.%s IS NULL" % (rel_name, schema_of[to], to, col, t["relationships"]["field"],
                                                   col, t["relationships"]["field"]))
                    else:
                        fail(rel(f), "test %r not understood by the validator" % (t,))
                        continue
                    ntests += 1
                    rc, out, err = psql(port, "warehouse", q)
                    if rc != 0 or out != "0":
                        fail(rel(f), "test %s on %s.%s: %s" % (t if isinstance(t, str) else list(t)[0],
                                                               m["name"], col, err or "%s failing rows" % out))
    for f in sorted(glob.glob(os.path.join(DEPLOY, "dbt", "tests", "*.sql"))):
        body = render_dbt(open(f).read(), schema_of)
        rc, out, err = psql(port, "warehouse", "SELECT count(*) FROM (%s) t" % body)
        ntests += 1
        if rc != 0 or out != "0":
            fail(rel(f), "singular test: %s" % (err or "%s failing rows" % out))
    ok("dbt: %d tests pass on the seed data" % ntests)
    pg_expect(port, "warehouse", "SELECT sum(n), sum(amount), count(*) FROM marts.orders_hourly",
              "10000|%s|%d" % (SEED_SUM, SEED_BUCKETS), "marts.orders_hourly totals|buckets")
    # The reconcile check's batch query runs as lambdaops (default privileges).
    q = LAMBDAOPS_CFG_RECONCILE["batch"]["query"]
    rc, out, err = psql(port, "warehouse", "SELECT count(*) FROM (%s) q" % q, user="lambdaops",
                        env={"PGPASSWORD": PG_ENV["LAMBDAOPS_PASSWORD"]})
    if rc != 0 or out != str(SEED_BUCKETS):
        fail("postgres", "reconcile batch query as lambdaops: %s" % (err or out))
    else:
        ok("postgres: the reconcile batch query runs as lambdaops (%d hourly buckets)" % SEED_BUCKETS)
    return True


# --- ClickHouse -------------------------------------------------------------------------

def ch_query(port, sql, timeout=30):
    req = urllib.request.Request("http://127.0.0.1:%d/" % port, data=sql.encode(), method="POST")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return True, r.read().decode().strip()
    except urllib.error.HTTPError as e:
        return False, e.read().decode().strip().splitlines()[0][:300]
    except OSError as e:
        return False, str(e)


def split_statements(text):
    """(comment block right before, statement) pairs; statements end with
    ';' at the end of a line."""
    out, comments, block, stmt = [], [], [], []
    for line in text.splitlines():
        s = line.strip()
        if not stmt:
            if s.startswith("--"):
                block.append(s)
                continue
            if not s:
                block = []
                continue
        stmt.append(line)
        if s.endswith(";"):
            out.append((list(block), "\n".join(stmt).rstrip().rstrip(";")))
            stmt, block = [], []
    if stmt:
        out.append((list(block), "\n".join(stmt)))
    return out


def rewrite_for_18(sql):
    """The mechanical rewrites for a server without Keeper and TTL."""
    done = []
    new = re.sub(r"\s+ON CLUSTER\s+\w+", "", sql)
    if new != sql:
        done.append("ON CLUSTER dropped")
    sql = new
    new = re.sub(r"Replicated(\w*MergeTree)\(\s*'[^']*'\s*,\s*'[^']*'\s*(?:,\s*)?",
                 lambda m: m.group(1) + "(", sql)
    if new != sql:
        done.append("Replicated*MergeTree -> *MergeTree")
    sql = new
    new = re.sub(r"\n\s*TTL [^\n]*", "", sql)
    if new != sql:
        done.append("TTL dropped")
    return new, done


def check_clickhouse(port):
    listing = []
    version = ch_query(port, "SELECT version()")[1]
    for f in sorted(glob.glob(os.path.join(DEPLOY, "clickhouse", "*.sql"))):
        for comments, sql in split_statements(open(f).read()):
            head = " ".join(sql.split())[:70]
            req = [c[len("-- requires:"):].strip() for c in comments if c.startswith("-- requires:")]
            mode = [c.split(":", 1)[1].strip() for c in comments if c.startswith("-- on-18.16:")]
            where = "%s: %s" % (rel(f), head)
            if not req:
                good, msg = ch_query(port, sql)
                if not good:
                    fail(where, "fails on ClickHouse %s and is not marked `-- requires:`: %s" % (version, msg))
                listing.append(("as written", head, ""))
                continue
            if mode not in (["rewrite"], ["skip"]):
                fail(where, "marked `requires:` without `-- on-18.16: rewrite|skip`")
                continue
            # The marker must be true: the statement as written fails here.
            good, msg = ch_query(port, sql)
            if good:
                fail(where, "marked `requires: %s` but runs on ClickHouse %s as written (stale marker)"
                     % ("; ".join(req), version))
                continue
            if mode == ["skip"]:
                listing.append(("SKIPPED", head, "; ".join(req)))
                continue
            new, done = rewrite_for_18(sql)
            if not done:
                fail(where, "marked rewrite, but no rewrite applies")
                continue
            good, msg = ch_query(port, new)
            if not good:
                fail(where, "rewritten (%s) it still fails: %s" % (", ".join(done), msg))
                continue
            listing.append(("rewritten", head, "%s [needs %s]" % (", ".join(done), "; ".join(req))))
    print("ClickHouse %s, the speed-layer DDL statement by statement:" % version)
    for how, head, why in listing:
        print("     %-10s %s%s" % (how, head, ("\n                  " + why) if why else ""))
    n_new = sum(1 for h, _, _ in listing if h != "as written")
    ok("clickhouse: %d statements ran (%d rewritten for 18.16, %d skipped); see the list above"
       % (len(listing), sum(1 for h, _, _ in listing if h == "rewritten"),
          sum(1 for h, _, _ in listing if h == "SKIPPED")))
    if n_new:
        NOTES.append("ClickHouse statements needing a newer server than %s: %d (listed above)" % (version, n_new))
    good, out = ch_query(port, "SELECT name, engine FROM system.tables WHERE database = 'speed' ORDER BY name FORMAT TSV")
    want = "batches\tMergeTree\norders_hourly_mv\tMaterializedView\norders_hourly_rt\tSummingMergeTree\norders_rt\tMergeTree"
    if out != want:
        fail("clickhouse", "speed tables: got %r, want %r" % (out, want))
    else:
        ok("clickhouse: speed.{batches, orders_hourly_mv, orders_hourly_rt, orders_rt} exist")
    return True


def load_speed_from_shop(pg_port, ch_port):
    """What the speed job writes for the seed: every order, into
    speed.orders_rt (the materialized view fills orders_hourly_rt)."""
    cmd = [os.path.join(PG_BIN, "psql"), "-X", "-h", "127.0.0.1", "-p", str(pg_port), "-U", "postgres",
           "-d", "shop", "-v", "ON_ERROR_STOP=1", "-q", "-c",
           "COPY (SELECT id, customer_id, status, amount, to_char(created_at AT TIME ZONE 'UTC', "
           "'YYYY-MM-DD HH24:MI:SS'), id FROM orders ORDER BY id) TO STDOUT WITH (FORMAT csv)"]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        fail("clickhouse", "export from shop: %s" % r.stderr)
        return False
    good, msg = ch_query(port=ch_port, sql="INSERT INTO speed.orders_rt (id, customer_id, status, amount, ts, "
                         "source_lsn) FORMAT CSV\n" + r.stdout)
    if not good:
        fail("clickhouse", "insert into speed.orders_rt: %s" % msg)
        return False
    good, out = ch_query(ch_port, "SELECT sum(n), sum(amount), uniqExact(bucket) FROM speed.orders_hourly_rt FORMAT TSV")
    want = "10000\t%s\t%d" % (SEED_SUM, SEED_BUCKETS)
    if out != want:
        fail("clickhouse", "materialized view totals: got %r, want %r" % (out, want))
        return False
    ok("clickhouse: 10000 orders through the materialized view: orders_hourly_rt = %s" % want.replace("\t", "|"))
    return True


# --- lambdaops binary ---------------------------------------------------------------------

def run(cmd, env=None, timeout=60):
    e = dict(os.environ)
    e.update(env or {})
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, env=e, timeout=timeout)
    except subprocess.TimeoutExpired:
        return 124, "", "timed out after %ds" % timeout
    return r.returncode, r.stdout, r.stderr


def check_binary(binary, stage_names, pg_port, ch_port, tmp):
    if not binary or not os.access(binary, os.X_OK):
        skip("lambdaops", "no binary (LO_BINARY unset): plan, config check and reconcile not run")
        return
    plan = os.path.join(DEPLOY, "plan.yaml")
    cfg = os.path.join(DEPLOY, "lambdaops.yaml")
    state = {"XDG_STATE_HOME": tmp, "HOME": tmp}
    rc, out, err = run([binary, "plan", "--plan", plan], env=state)
    if rc != 0 and ("unknown command" in err or "plan" not in out):
        skip("lambdaops plan", "this binary has no `plan` command yet: %s" % err.strip()[:120])
    elif rc != 0:
        fail("lambdaops plan", "exit %d: %s" % (rc, err.strip()))
    else:
        missing = [s for s in stage_names if not re.search(r"^stage \d+/%d %s:" % (len(stage_names), re.escape(s)), out, re.M)]
        if missing:
            fail("lambdaops plan", "stages not printed: %s" % missing)
        elif "${" in out:
            fail("lambdaops plan", "an unsubstituted ${var} in the printed commands")
        else:
            ok("lambdaops plan --plan deploy/plan.yaml prints all %d stages" % len(stage_names))
        rc, out, err = run([binary, "up", "--plan", plan, "--dry-run"], env=state)
        stages_run = re.findall(r"^dry run: up stage (\S+)", out, re.M)
        if rc != 0 or stages_run != stage_names:
            fail("lambdaops up --dry-run", "exit %d, stages %s: %s" % (rc, stages_run, err.strip()[:300]))
        else:
            ok("lambdaops up --dry-run runs all %d stages in order" % len(stage_names))
        rc, out, err = run([binary, "down", "--plan", plan, "--dry-run"], env=state)
        stages_run = re.findall(r"^dry run: down stage (\S+)", out, re.M)
        if rc != 0 or stages_run != list(reversed(stage_names)):
            fail("lambdaops down --dry-run", "exit %d, stages %s: %s" % (rc, stages_run, err.strip()[:300]))
        else:
            ok("lambdaops down --dry-run runs all %d stages in reverse" % len(stage_names))
    # config check: both configs as written, with every kind and top-level key.
    for c in (cfg, os.path.join(DEPLOY, "airflow", "lambdaops-reconcile.yaml")):
        rc, out, err = run([binary, "-c", c, "config", "check"])
        if rc != 0:
            fail("lambdaops config check %s" % rel(c), err.strip())
        else:
            ok("lambdaops config check %s: %s" % (rel(c), out.strip()))
    # The reconcile check of deploy/lambdaops.yaml, its exact queries, against
    # the real servers holding the seed in both layers.
    if pg_port is None or ch_port is None:
        return
    rec = dict(LAMBDAOPS_CFG_RECONCILE)
    test_cfg = {"environment": "deploy-test", "sources": [
        {"name": "speed-ch", "kind": "clickhouse", "url": "http://127.0.0.1:%d" % ch_port, "timeout": "10s"},
        {"name": "warehouse", "kind": "postgres",
         "dsn": "host=127.0.0.1 port=%d dbname=warehouse user=lambdaops" % pg_port,
         "password_env": "LAMBDAOPS_PASSWORD", "timeout": "10s"},
        rec]}
    path = os.path.join(tmp, "reconcile.yaml")
    with open(path, "w") as fh:
        yaml.safe_dump(test_cfg, fh, sort_keys=False)
    rc, out, err = run([binary, "-c", path, "status", "--json"],
                       env={"LAMBDAOPS_PASSWORD": PG_ENV["LAMBDAOPS_PASSWORD"]}, timeout=120)
    try:
        doc = json.loads(out)
        r = doc["sources"][rec["name"]]
    except (ValueError, KeyError) as e:
        fail("reconcile", "no status JSON (%s): %s %s" % (e, out[:200], err[:200]))
        return
    got = {k: r.get(k) for k in ("status", "compared", "mismatched", "missing_in_speed", "missing_in_batch")}
    # Every hourly bucket of the seed is compared or in flight.
    settled = got.get("compared")
    if got["status"] != "ok" or got["mismatched"] != 0 or got["missing_in_speed"] != 0 or \
            got["missing_in_batch"] != 0 or not settled or settled + (r.get("in_flight") or 0) != SEED_BUCKETS:
        fail("reconcile", "orders-hourly between the real servers: %s in_flight=%s error=%s"
             % (got, r.get("in_flight"), r.get("error")))
    else:
        ok("reconcile: orders-hourly (queries of deploy/lambdaops.yaml) on the real servers: "
           "%d settled buckets compared, %d in flight, 0 mismatched, 0 missing" % (settled, r.get("in_flight")))


# --- main ---------------------------------------------------------------------------

def main():
    global ROOT, DEPLOY, PG_BIN, PG_DATA, LAMBDAOPS_CFG_RECONCILE
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--pg-port", type=int)
    ap.add_argument("--pg-bin", default="")
    ap.add_argument("--pg-data", default="")
    ap.add_argument("--ch-port", type=int)
    ap.add_argument("--lambdaops", default="")
    ap.add_argument("--tmp", required=True)
    ap.add_argument("--no-tools", action="store_true",
                    help="skip kubectl kustomize and promtool (the mutant runs)")
    a = ap.parse_args()
    ROOT = os.path.abspath(a.root)
    DEPLOY = os.path.join(ROOT, "deploy")
    PG_BIN = a.pg_bin
    PG_DATA = a.pg_data

    files = load_yaml_files()
    manifests, kus, other = classify(files)
    ctx = {k: [] for k in ("secret_refs", "configmap_refs", "pvc_refs", "sa_refs", "subject_refs", "sc_refs",
                           "role_refs", "headless_refs", "svc_selectors", "pod_templates", "nodeports",
                           "spark_main", "generated_configmaps")}
    ctx["objects"] = {}
    for f, i, d in manifests:
        check_manifest(f, i, d, ctx)
    ok("manifest: %d objects checked (required fields, images pinned, resources and probes)" % len(manifests))
    kus_files = check_kustomizations(kus, ctx)
    kdirs = {}
    for p in kus_files:
        kdirs.setdefault(os.path.dirname(p), set()).add(p)
    if not a.no_tools:
        check_kustomize_render(kus, a.tmp)
        check_prometheus_config(manifests, a.tmp)
    check_values(other.get("values") or {})
    ctx["chart_nodeports"] = CHART_NODEPORTS
    check_kind_config(other.get("kind") or {}, ctx)
    sources = check_lambdaops_configs(other.get("lambdaops") or {})
    check_jmx_rules(manifests, sources)
    LAMBDAOPS_CFG_RECONCILE = next((s for s in sources.values() if s.get("kind") == "reconcile"), None)
    if not LAMBDAOPS_CFG_RECONCILE:
        fail("deploy/lambdaops.yaml", "no reconcile source")
    secrets, stage_names = check_plan(other.get("plan") or {}, sources,
                                      {f for f, _, _ in manifests}, kdirs)
    check_cross_refs(ctx, secrets)
    pyfiles = check_python()
    for where, mf in ctx["spark_main"]:
        p = mf.replace("local:///opt/lambdaops/spark/", os.path.join(DEPLOY, "spark") + "/")
        if p not in pyfiles:
            fail(where, "mainApplicationFile %s is not a file in deploy/spark" % mf)
    check_json()
    models = check_dbt(other.get("dbt") or {})

    if a.pg_port:
        if check_postgres(a.pg_port) and models and LAMBDAOPS_CFG_RECONCILE:
            check_dbt_on_postgres(a.pg_port, models)
    else:
        skip("postgres", "no PostgreSQL port given")
    if a.ch_port:
        if check_clickhouse(a.ch_port) and a.pg_port:
            load_speed_from_shop(a.pg_port, a.ch_port)
    else:
        skip("clickhouse", "no ClickHouse port given")
    check_binary(a.lambdaops, stage_names, a.pg_port, a.ch_port, a.tmp)

    print()
    for n in NOTES:
        print("note: " + n)
    for s in SKIPS:
        print("skipped: " + s)
    if FAILS:
        print("deploy_lint: %d problem(s)" % len(FAILS))
        return 1
    print("deploy_lint: ok (%d skipped)" % len(SKIPS))
    return 0


if __name__ == "__main__":
    sys.exit(main())
