r"""Checks the rendered Kubernetes manifests; run by scripts/check-kubernetes, which renders them.

    check_manifests.py --repo ROOT --k8s-version 1.30.0 --k8s-version 1.37.0 \
        --render production=prod.yaml,prod-migrate.yaml --render dev=dev.yaml,dev-migrate.yaml \
        --with-secrets dev

Three kinds of check, each failure printed on its own line:

1. Schemas. Every built-in object against the Kubernetes OpenAPI schema of each version given
   (kubernetes-validate, strict: an unknown field fails). kubernetes-validate has no schema for
   custom resources, so those are skipped there by kind, explicitly, and each KEDA ScaledObject
   and Prometheus Operator PodMonitor is validated instead against the models generated from its
   CRD's schema (PyPI's cloudcoil-models-keda and cloudcoil-models-prometheus-operator): types and
   required fields, and, by comparing what the model read with what was written, no unknown field.
2. References. Everything an object names exists in the same environment's render: ConfigMaps
   and their keys, the dev overlay's Secrets and their keys, Services' pods and ports, autoscaler,
   disruption-budget and monitor targets, the ingress backend, and each RAHAT_<SERVICE>_ADDRESS
   (a Service of the caller's own colour, of the right process, on its gRPC port).
3. Coherence with the code and the docs. Every environment variable a Rahat container or the shared
   ConfigMap sets is one Sources/ reads (a `_FILE` only for a secret); the call graph the
   Deployments' addresses make is docs/internal-gateway.md's allow-list; the NetworkPolicies allow
   exactly that graph and the datastore, SMS, OTLP, DNS, ingress and scrape paths the manifests
   describe, and nothing between processes beyond it; the worker autoscaler reads every job queue
   Sources/ declares, with max(); the pod monitors' jobs are prometheus.yml's; the grace period
   outlasts preStop plus RAHAT_SHUTDOWN_TIMEOUT_SECONDS; every checkov skip gives its reason.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import yaml

CRD_KINDS = {("keda.sh/v1alpha1", "ScaledObject"), ("monitoring.coreos.com/v1", "PodMonitor")}
WORKLOAD_KINDS = {"Deployment", "StatefulSet", "Job"}
NAMESPACE_LABELS = {"kubernetes.io/metadata.name": "rahat"}

failures: list[str] = []
checks = 0


def check(condition: bool, message: str) -> bool:
    global checks
    checks += 1
    if not condition:
        failures.append(message)
    return condition


def name_of(obj: dict) -> str:
    return f"{obj['kind']}/{obj['metadata']['name']}"


def pod_spec(obj: dict) -> dict:
    return obj["spec"]["template"]["spec"]


def pod_labels(obj: dict) -> dict:
    return obj["spec"]["template"]["metadata"].get("labels", {})


def matches(selector: dict | None, labels: dict) -> bool:
    """A LabelSelector (matchLabels and matchExpressions) against labels; {} matches everything."""
    selector = selector or {}
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions") or []:
        key, operator, values = expression["key"], expression["operator"], expression.get("values", [])
        if operator == "In" and labels.get(key) not in values:
            return False
        if operator == "NotIn" and labels.get(key) in values:
            return False
        if operator == "Exists" and key not in labels:
            return False
        if operator == "DoesNotExist" and key in labels:
            return False
    return True


def is_rahat(obj: dict) -> bool:
    return obj["kind"] in WORKLOAD_KINDS and pod_labels(obj).get("app.kubernetes.io/name") == "rahat"


# 1. Schemas --------------------------------------------------------------------------------------


def unknown_fields(written, read, path: str = "") -> list[str]:
    """Keys present in what was written but absent from the model's dump of what it read."""
    found: list[str] = []
    if isinstance(written, dict) and isinstance(read, dict):
        for key, value in written.items():
            if key not in read:
                found.append(f"{path}.{key}".lstrip("."))
            else:
                found += unknown_fields(value, read[key], f"{path}.{key}")
    elif isinstance(written, list) and isinstance(read, list):
        for index, (item, read_item) in enumerate(zip(written, read)):
            found += unknown_fields(item, read_item, f"{path}[{index}]")
    return found


def validate_schemas(objects: list[dict], versions: list[str], label: str) -> tuple[int, int]:
    import kubernetes_validate.utils as kv
    from cloudcoil.models.keda.v1alpha1 import ScaledObject
    from cloudcoil.models.prometheus_operator.v1 import PodMonitor

    models = {"ScaledObject": ScaledObject, "PodMonitor": PodMonitor}
    builtin = custom = 0
    for obj in objects:
        if (obj["apiVersion"], obj["kind"]) in CRD_KINDS:
            model = models[obj["kind"]]
            try:
                read = model.model_validate(obj).model_dump(by_alias=True, exclude_unset=True, mode="json")
            except Exception as error:  # pydantic's ValidationError, or anything the model refuses
                check(False, f"{label}: {name_of(obj)} does not validate against its CRD's schema: {error}")
                continue
            unknown = unknown_fields(obj, read)
            check(not unknown, f"{label}: {name_of(obj)} has fields its CRD does not define: {unknown}")
            custom += 1
            continue
        for version in versions:
            try:
                kv.validate(obj, version, strict=True)
                check(True, "")
            except kv.ValidationError as error:
                path = ".".join(str(part) for part in error.path)
                check(False, f"{label}: {name_of(obj)} against Kubernetes {version}: {path}: {error.message}")
            except kv.SchemaNotFoundError:
                check(False, f"{label}: {name_of(obj)} ({obj['apiVersion']}) has no schema in Kubernetes {version}")
        builtin += 1
    return builtin, custom


# 3a. What the code reads -------------------------------------------------------------------------


def variables_the_code_reads(repo: Path) -> tuple[set[str], set[str]]:
    """(every variable name Sources/ reads, the ones read as secrets that accept `_FILE`)."""
    text = "\n".join(path.read_text() for path in (repo / "Sources").rglob("*.swift"))
    names = set(re.findall(r'"((?:RAHAT|OTEL|REDIS|DATABASE)_[A-Z0-9_]+)"', text))
    secrets = set(re.findall(r'\.secret\("([A-Z0-9_]+)"\)', text))
    # Names built from a service's prefix (ProcessConfigurations.swift, ServiceDatabaseConfiguration.swift).
    roles = re.search(r"enum ServiceRole[^{]*\{\s*case ([a-z0-9, ]+)", text)
    check(roles is not None, "Sources/: no `enum ServiceRole` to read the services' setting prefixes from")
    for role in (roles.group(1).replace(" ", "").split(",") if roles else []):
        prefix = f"RAHAT_{role.upper()}"
        for suffix in ("_GRPC_HOST", "_GRPC_PORT", "_HTTP_HOST", "_HTTP_PORT", "_ADDRESS"):
            if f'{suffix}"' in text:
                names.add(prefix + suffix)
        if '"DATABASE_URL"' in text and 'prefix + "DATABASE_URL"' in text:
            names.add(prefix + "_DATABASE_URL")
            secrets.add(prefix + "_DATABASE_URL")
        if 'prefix + "DATABASE_READ_URL"' in text:
            names.add(prefix + "_DATABASE_READ_URL")
            secrets.add(prefix + "_DATABASE_READ_URL")
    if "postgresURL(from: &source, keys:" in text:
        secrets |= {"DATABASE_URL", "DATABASE_READ_URL"}
    return names, secrets


def check_variables(objects: list[dict], label: str, names: set[str], secrets: set[str]) -> None:
    for obj in objects:
        if obj["kind"] == "ConfigMap" and obj["metadata"]["name"].startswith("rahat-config"):
            for key in obj.get("data", {}):
                check(key in names, f"{label}: {name_of(obj)} sets {key}, which no code in Sources/ reads")
        if not is_rahat(obj):
            continue
        for container in pod_spec(obj)["containers"]:
            for env in container.get("env", []):
                variable = env["name"]
                if variable.endswith("_FILE") and variable not in names:
                    check(variable[: -len("_FILE")] in secrets,
                          f"{label}: {name_of(obj)} sets {variable}, but {variable[:-5]} is not read as a secret")
                else:
                    check(variable in names, f"{label}: {name_of(obj)} sets {variable}, which no code in Sources/ reads")


# 2. References -----------------------------------------------------------------------------------


def check_references(objects: list[dict], label: str, secrets_expected: bool) -> None:
    by_kind: dict[str, dict[str, dict]] = {}
    for obj in objects:
        by_kind.setdefault(obj["kind"], {})[obj["metadata"]["name"]] = obj
    configmaps, secrets = by_kind.get("ConfigMap", {}), by_kind.get("Secret", {})
    workloads = [obj for obj in objects if obj["kind"] in WORKLOAD_KINDS]
    if not secrets_expected:
        check(not secrets, f"{label}: renders Secrets {sorted(secrets)}: the operator supplies them, the base holds none")

    def secret_key(owner: str, name: str, key: str | None) -> None:
        if not secrets_expected:
            return
        if check(name in secrets, f"{label}: {owner} reads Secret {name}, which the overlay does not create") and key:
            data = {**secrets[name].get("data", {}), **secrets[name].get("stringData", {})}
            check(key in data, f"{label}: {owner} reads key {key} of Secret {name}, which has {sorted(data)}")

    for obj in workloads:
        spec = pod_spec(obj)
        for container in spec["containers"]:
            for source in container.get("envFrom", []):
                if "configMapRef" in source:
                    check(source["configMapRef"]["name"] in configmaps,
                          f"{label}: {name_of(obj)} reads ConfigMap {source['configMapRef']['name']}, not rendered")
            for env in container.get("env", []):
                ref = (env.get("valueFrom") or {}).get("configMapKeyRef")
                if ref and check(ref["name"] in configmaps, f"{label}: {name_of(obj)} reads missing ConfigMap {ref['name']}"):
                    check(ref["key"] in configmaps[ref["name"]].get("data", {}),
                          f"{label}: {name_of(obj)} reads key {ref['key']} missing from ConfigMap {ref['name']}")
        for volume in spec.get("volumes", []):
            if "secret" in volume:
                secret_key(name_of(obj), volume["secret"]["secretName"], None)
            for source in (volume.get("projected") or {}).get("sources", []):
                if "secret" in source:
                    for item in source["secret"].get("items", []):
                        secret_key(name_of(obj), source["secret"]["name"], item["key"])

    def pods_matching(selector: dict) -> list[dict]:
        return [obj for obj in workloads if matches(selector, pod_labels(obj))]

    def port_names(obj: dict) -> set:
        return {port.get("name") for c in pod_spec(obj)["containers"] for port in c.get("ports", [])} | {
            port["containerPort"] for c in pod_spec(obj)["containers"] for port in c.get("ports", [])}

    for service in by_kind.get("Service", {}).values():
        selected = pods_matching({"matchLabels": service["spec"].get("selector", {})})
        if check(bool(selected), f"{label}: {name_of(service)} selects no pod"):
            for port in service["spec"]["ports"]:
                target = port.get("targetPort", port["port"])
                for obj in selected:
                    check(target in port_names(obj), f"{label}: {name_of(service)} targets port {target}, absent from {name_of(obj)}")
    for kind in ("HorizontalPodAutoscaler", "ScaledObject"):
        for obj in by_kind.get(kind, {}).values():
            target = obj["spec"]["scaleTargetRef"]["name"]
            check(target in by_kind.get("Deployment", {}), f"{label}: {name_of(obj)} scales {target}, which is not rendered")
    for obj in by_kind.get("PodDisruptionBudget", {}).values():
        check(bool(pods_matching(obj["spec"]["selector"])), f"{label}: {name_of(obj)} selects no pod")
    for obj in by_kind.get("PodMonitor", {}).values():
        selected = pods_matching(obj["spec"]["selector"])
        if check(bool(selected), f"{label}: {name_of(obj)} selects no pod"):
            for endpoint in obj["spec"]["podMetricsEndpoints"]:
                for pod in selected:
                    check(endpoint["port"] in port_names(pod), f"{label}: {name_of(obj)} scrapes port {endpoint['port']}, absent from {name_of(pod)}")
    for obj in by_kind.get("Ingress", {}).values():
        for rule in obj["spec"]["rules"]:
            for path in rule["http"]["paths"]:
                backend = path["backend"]["service"]
                service = by_kind.get("Service", {}).get(backend["name"])
                if check(service is not None, f"{label}: {name_of(obj)} routes to missing Service {backend['name']}"):
                    check(backend["port"].get("name") in {p.get("name") for p in service["spec"]["ports"]},
                          f"{label}: {name_of(obj)} routes to port {backend['port']} that {backend['name']} lacks")


def call_graph(objects: list[dict], label: str) -> set[tuple[str, str]]:
    """(caller, callee) from each Rahat container's RAHAT_<SERVICE>_ADDRESS, after checking that
    the address is a Service of the caller's colour selecting that service's pods on its gRPC port."""
    configmaps = {o["metadata"]["name"]: o for o in objects if o["kind"] == "ConfigMap"}
    services = {o["metadata"]["name"]: o for o in objects if o["kind"] == "Service"}
    workloads = [o for o in objects if o["kind"] in WORKLOAD_KINDS]
    graph: set[tuple[str, str]] = set()
    for obj in objects:
        if not is_rahat(obj) or obj["kind"] != "Deployment":
            continue
        labels = pod_labels(obj)
        caller, colour = labels["app.kubernetes.io/component"], labels.get("rahat.org/colour")
        for env in pod_spec(obj)["containers"][0].get("env", []):
            found = re.fullmatch(r"RAHAT_([A-Z0-9]+)_ADDRESS", env["name"])
            if not found:
                continue
            callee = found.group(1).lower()
            ref = (env.get("valueFrom") or {}).get("configMapKeyRef")
            value = configmaps.get(ref["name"], {}).get("data", {}).get(ref["key"]) if ref else env.get("value")
            if not check(bool(value) and ":" in value, f"{label}: {name_of(obj)} {env['name']} is not host:port ({value})"):
                continue
            host, port = value.rsplit(":", 1)
            service = services.get(host)
            if not check(service is not None, f"{label}: {name_of(obj)} {env['name']}={value} names no rendered Service"):
                continue
            selected = [w for w in workloads if matches({"matchLabels": service["spec"]["selector"]}, pod_labels(w))]
            check(bool(selected) and all(pod_labels(w).get("app.kubernetes.io/component") == callee
                                         and pod_labels(w).get("rahat.org/colour") == colour for w in selected),
                  f"{label}: {name_of(obj)} ({colour}) dials {host}, which is not {callee} of the same colour")
            check(any(str(p["port"]) == port and p.get("name") == "grpc" for p in service["spec"]["ports"]),
                  f"{label}: {name_of(obj)} dials {value}, not {host}'s gRPC port")
            graph.add((caller, callee))
    return graph


def documented_graph(repo: Path) -> set[tuple[str, str]]:
    """docs/internal-gateway.md's allow-list as (caller, callee) pairs."""
    graph: set[tuple[str, str]] = set()
    for line in (repo / "docs" / "internal-gateway.md").read_text().splitlines():
        found = re.match(r"\| `rahat\.([a-z0-9]+)\.v1\.[A-Za-z]+/[A-Za-z]+` \| ([^|]+) \|", line)
        if found:
            for caller in found.group(2).split(","):
                if caller.strip() != "none":
                    graph.add((caller.strip(), found.group(1)))
    check(bool(graph), "docs/internal-gateway.md: found no allow-list table")
    return graph


# 3b. NetworkPolicies, evaluated --------------------------------------------------------------------


class Pod:
    def __init__(self, labels: dict, ports: dict[str, int], namespace: dict = NAMESPACE_LABELS):
        self.labels, self.ports, self.namespace = labels, ports, namespace


def port_allowed(rule_ports: list | None, destination: Pod | None, port: int) -> bool:
    if not rule_ports:
        return True
    for rule_port in rule_ports:
        wanted = rule_port.get("port")
        if wanted is None or wanted == port:
            return True
        if isinstance(wanted, str) and destination is not None and destination.ports.get(wanted) == port:
            return True
    return False


def peer_matches(peer: dict, pod: Pod | None, external: bool) -> bool:
    if "ipBlock" in peer:
        return external  # an address outside the cluster; pods are reached by selectors here
    if pod is None:
        return False
    if "namespaceSelector" in peer:
        return matches(peer["namespaceSelector"], pod.namespace) and matches(peer.get("podSelector"), pod.labels)
    return pod.namespace == NAMESPACE_LABELS and matches(peer["podSelector"], pod.labels)


def allowed(policies: list[dict], direction: str, subject: Pod, peer: Pod | None, port: int, external: bool = False) -> bool:
    """Whether `subject` may receive from (Ingress) or send to (Egress) `peer` on `port`."""
    selecting = [p for p in policies if direction in p["spec"].get("policyTypes", ["Ingress"])
                 and matches(p["spec"]["podSelector"], subject.labels)]
    if not selecting:
        return True
    key, peers_key = ("ingress", "from") if direction == "Ingress" else ("egress", "to")
    destination = subject if direction == "Ingress" else peer
    for policy in selecting:
        for rule in policy["spec"].get(key, []):
            peers = rule.get(peers_key)
            if (not peers or any(peer_matches(p, peer, external) for p in peers)) and port_allowed(rule.get("ports"), destination, port):
                return True
    return False


def check_network_policies(objects: list[dict], label: str, graph: set[tuple[str, str]]) -> None:
    policies = [o for o in objects if o["kind"] == "NetworkPolicy"]
    pods: dict[str, Pod] = {}
    for obj in objects:
        if is_rahat(obj) and pod_labels(obj).get("rahat.org/colour", "blue") == "blue":
            component = pod_labels(obj)["app.kubernetes.io/component"]
            ports = {p["name"]: p["containerPort"] for c in pod_spec(obj)["containers"] for p in c.get("ports", [])}
            pods[component] = Pod(pod_labels(obj), ports)
    grpc = {name: pod.ports["grpc"] for name, pod in pods.items() if "grpc" in pod.ports}
    for caller in pods:
        for callee, port in grpc.items():
            wanted = (caller, callee) in graph
            sends = allowed(policies, "Egress", pods[caller], pods[callee], port)
            receives = allowed(policies, "Ingress", pods[callee], pods[caller], port)
            check(sends == wanted and receives == wanted,
                  f"{label}: NetworkPolicies {'block' if wanted else 'allow'} {caller} -> {callee}:{port}"
                  f" (egress {sends}, ingress {receives})")

    outside = {"ingress": Pod({"app.kubernetes.io/name": "ingress-nginx"}, {}, {"kubernetes.io/metadata.name": "ingress-nginx"}),
               "prometheus": Pod({"app.kubernetes.io/name": "prometheus"}, {}, {"kubernetes.io/metadata.name": "monitoring"}),
               "stranger": Pod({"app": "other"}, {}, {"kubernetes.io/metadata.name": "default"})}
    for name, pod in pods.items():
        public = pod.ports.get("http")
        for port_name, port in pod.ports.items():
            check(allowed(policies, "Ingress", pod, outside["ingress"], port) == (name == "gateway" and port == public),
                  f"{label}: the ingress controller {'cannot' if name == 'gateway' and port == public else 'can'} reach {name}:{port}")
            check(allowed(policies, "Ingress", pod, outside["prometheus"], port) == (port_name == "ops"),
                  f"{label}: Prometheus {'cannot' if port_name == 'ops' else 'can'} reach {name}:{port_name}")
            check(not allowed(policies, "Ingress", pod, outside["stranger"], port),
                  f"{label}: a pod in another namespace can reach {name}:{port}")
    postgres = {"auth", "core", "ledger", "c2c", "worker", "migrate"}
    redis = {"gateway", "auth", "core", "ledger", "c2c", "worker"}
    sms = {"core", "c2c", "worker"}
    datastore = Pod({"app.kubernetes.io/name": "some-datastore"}, {}, {"kubernetes.io/metadata.name": "datastores"})
    collector = Pod({"app.kubernetes.io/name": "otel-collector"}, {}, {"kubernetes.io/metadata.name": "observability"})
    dns = Pod({"k8s-app": "kube-dns"}, {}, {"kubernetes.io/metadata.name": "kube-system"})
    for name, pod in pods.items():
        check(allowed(policies, "Egress", pod, datastore, 5432) == (name in postgres),
              f"{label}: {name} {'cannot' if name in postgres else 'can'} reach PostgreSQL")
        check(allowed(policies, "Egress", pod, datastore, 6379) == (name in redis),
              f"{label}: {name} {'cannot' if name in redis else 'can'} reach Redis")
        check(allowed(policies, "Egress", pod, None, 443, external=True) == (name in sms),
              f"{label}: {name} {'cannot' if name in sms else 'can'} reach an SMS gateway on 443")
        check(allowed(policies, "Egress", pod, None, 8080, external=True) is False,
              f"{label}: {name} can reach arbitrary external ports")
        check(allowed(policies, "Egress", pod, dns, 53), f"{label}: {name} cannot resolve names")
        for port in (4317, 4318):
            check(allowed(policies, "Egress", pod, collector, port), f"{label}: {name} cannot export traces on {port}")
    check(set(pods) >= {"gateway", "auth", "core", "ledger", "c2c", "worker", "migrate"},
          f"{label}: expected every process among the pods, found {sorted(pods)}")


# 3c. The rest ----------------------------------------------------------------------------------


def check_operations(objects: list[dict], label: str, repo: Path) -> None:
    config = next((o for o in objects if o["kind"] == "ConfigMap" and o["metadata"]["name"].startswith("rahat-config")), None)
    shutdown = int((config or {}).get("data", {}).get("RAHAT_SHUTDOWN_TIMEOUT_SECONDS", "30"))
    for obj in objects:
        if not is_rahat(obj) or obj["kind"] != "Deployment":
            continue
        spec, container = pod_spec(obj), pod_spec(obj)["containers"][0]
        pre_stop = ((container.get("lifecycle") or {}).get("preStop") or {}).get("sleep", {}).get("seconds", 0)
        check(spec.get("terminationGracePeriodSeconds", 30) > shutdown + pre_stop,
              f"{label}: {name_of(obj)} may be killed mid-drain: grace {spec.get('terminationGracePeriodSeconds')}"
              f" <= {shutdown} + preStop {pre_stop}")
        routed = any(o["kind"] == "Service" and matches({"matchLabels": o["spec"].get("selector", {})}, pod_labels(obj))
                     for o in objects)
        check(pre_stop > 0 or not routed, f"{label}: {name_of(obj)} is behind a Service but has no preStop pause")
        for probe, path in (("livenessProbe", "/health"), ("readinessProbe", "/readiness"), ("startupProbe", "/health")):
            get = (container.get(probe) or {}).get("httpGet", {})
            check(get.get("path") == path and get.get("port") == "ops",
                  f"{label}: {name_of(obj)} {probe} is not GET {path} on the ops port")
        check(spec.get("automountServiceAccountToken") is False, f"{label}: {name_of(obj)} mounts a service account token")
        check(spec.get("enableServiceLinks") is False, f"{label}: {name_of(obj)} gets Service-link variables")
    for obj in objects:
        for key, value in (obj["metadata"].get("annotations") or {}).items():
            if key.startswith("checkov.io/skip"):
                check(re.fullmatch(r"CKV2?_K8S_\d+=.{20,}", value) is not None,
                      f"{label}: {name_of(obj)} skips a check without a reason: {key}: {value}")

    sources = "\n".join(p.read_text() for p in (repo / "Sources").rglob("*.swift"))
    queues = set(re.findall(r'static let [a-z]+Queue = "([a-z0-9-]+)"', sources))
    check(bool(queues), "Sources/: found no job queue names (static let …Queue = \"…\")")
    for obj in objects:
        if obj["kind"] != "ScaledObject":
            continue
        read = set()
        for trigger in obj["spec"]["triggers"]:
            query = trigger["metadata"]["query"]
            found = re.fullmatch(r'max\(rahat_jobs_queued\{[^}]*queue="([a-z0-9-]+)"[^}]*\}\)', query)
            if check(found is not None, f"{label}: {name_of(obj)} query is not max(rahat_jobs_queued{{…queue=…}}): {query}"):
                read.add(found.group(1))
        check(read == queues, f"{label}: {name_of(obj)} reads queues {sorted(read)}; Sources/ declares {sorted(queues)}")
    prometheus = yaml.safe_load((repo / "deploy/observability/prometheus/prometheus.yml").read_text())
    jobs = {c["job_name"] for c in prometheus["scrape_configs"]} - {"rahat-internal-gateway"}
    monitored = set()
    for obj in objects:
        if obj["kind"] == "PodMonitor":
            for endpoint in obj["spec"]["podMetricsEndpoints"]:
                for relabel in endpoint.get("relabelings", []):
                    if relabel.get("targetLabel") == "job":
                        monitored.add(relabel["replacement"])
    check(monitored == jobs, f"{label}: pod monitors set jobs {sorted(monitored)}; prometheus.yml scrapes {sorted(jobs)}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repo", type=Path, required=True)
    parser.add_argument("--k8s-version", action="append", required=True)
    parser.add_argument("--render", action="append", required=True, help="ENV=FILE[,FILE…]")
    parser.add_argument("--with-secrets", action="append", default=[],
                        help="an ENV whose render creates the Secrets its workloads read (the dev overlay)")
    args = parser.parse_args()

    names, secrets = variables_the_code_reads(args.repo)
    documented = documented_graph(args.repo)
    builtin = custom = 0
    for render in args.render:
        label, files = render.split("=", 1)
        objects = [doc for path in files.split(",") for doc in yaml.safe_load_all(Path(path).read_text()) if doc]
        b, c = validate_schemas(objects, args.k8s_version, label)
        builtin, custom = builtin + b, custom + c
        check_variables(objects, label, names, secrets)
        check_references(objects, label, secrets_expected=label in args.with_secrets)
        graph = call_graph(objects, label)
        check(graph == documented, f"{label}: the Deployments' call graph differs from docs/internal-gateway.md: "
              f"extra {sorted(graph - documented)}, missing {sorted(documented - graph)}")
        check_network_policies(objects, label, documented)
        check_operations(objects, label, args.repo)
    for failure in failures:
        print(f"FAIL {failure}")
    print(f"RESULT builtin={builtin} custom={custom} checks={checks} failed={len(failures)}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
