"""What the deployment validators cannot see (`make validate-deploy` checks each file against its
schema and policies): that the files under deploy/ agree with each other and with casehub."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]  # PyYAML comes with uvicorn[standard]

from casehub.config import Settings

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
BASE = DEPLOY / "k8s" / "base"
SITE = DEPLOY / "nginx" / "casehub.conf"
PRODUCTION = DEPLOY / "k8s" / "overlays" / "production"
SERVER_PORT = 8000  # what every `casehub serve` in deploy/ binds
# `make validate-deploy` installs it (and runs before pytest in `make test`).
KUBECTL = DEPLOY.parent / ".venv-deploy" / "bin" / "kubectl"


def base_resources() -> dict[str, dict[str, Any]]:
    """The base's resources by kind (one of each kind)."""
    kustomization = yaml.safe_load((BASE / "kustomization.yaml").read_text())
    resources: dict[str, dict[str, Any]] = {}
    for name in kustomization["resources"]:
        for document in yaml.safe_load_all((BASE / name).read_text()):
            assert document["kind"] not in resources, f"two {document['kind']}s in the base"
            resources[document["kind"]] = document
    return resources


def compose() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    return document


def by_name(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {item["name"]: item for item in items}


def size_in_bytes(text: str) -> int:
    """An nginx size ("16m", "512k", "1024")."""
    match = re.fullmatch(r"(\d+)([kmg]?)", text.lower())
    assert match, f"{text!r} is not an nginx size"
    return int(match[1]) * {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}[match[2]]


def test_every_casehub_variable_the_deployments_set_is_a_setting() -> None:
    # casehub ignores unknown CASEHUB_ variables, so a misspelt one would silently leave the
    # default in force.
    known = {f"CASEHUB_{name.upper()}" for name in Settings.model_fields}
    configured = set(base_resources()["ConfigMap"]["data"])
    for service in compose()["services"].values():
        configured |= set(service.get("environment", {}))
    casehub = {name for name in configured if name.startswith("CASEHUB_")}
    assert "CASEHUB_KEYRING" in casehub
    assert sorted(casehub - known) == []


def test_the_server_reads_the_keyring_copy_the_init_container_makes() -> None:
    resources = base_resources()
    keyring = Path(resources["ConfigMap"]["data"]["CASEHUB_KEYRING"])
    pod = resources["Deployment"]["spec"]["template"]["spec"]
    volumes = by_name(pod["volumes"])
    init = by_name(pod["initContainers"])["keyring"]
    (server,) = pod["containers"]
    # 0400: casehub refuses a keyring its group can read, which the Secret's files are.
    program, mode_flag, mode, source, destination = init["command"]
    assert (program, mode_flag, mode) == ("install", "-m", "0400")
    init_mounts = by_name(init["volumeMounts"])
    server_mounts = by_name(server["volumeMounts"])
    secrets = {name for name, volume in volumes.items() if "secret" in volume}
    assert secrets == {"keyring-source"}
    assert Path(source).parent == Path(init_mounts["keyring-source"]["mountPath"])
    assert Path(destination) == Path(init_mounts["keyring"]["mountPath"]) / keyring.name
    assert server_mounts["keyring"] == {
        "name": "keyring",
        "mountPath": str(keyring.parent),
        "readOnly": True,
    }
    assert volumes["keyring"]["emptyDir"]["medium"] == "Memory"  # never on the node's disk
    assert not secrets & set(server_mounts), "the server must not mount the Secret itself"
    # The Secret's files belong to root: uid 10001 reads them through the pod's fsGroup.
    assert pod["securityContext"]["fsGroup"] == 10001


def test_the_nginx_site_is_an_http_context_file_aimed_at_the_compose_replicas() -> None:
    site = SITE.read_text()
    # Included from the http context, by compose's nginx and by the multi-replica test.
    assert not re.search(r"^\s*(events|http)\s*\{", site, flags=re.MULTILINE)
    upstream = re.search(r"^upstream casehub \{(?P<body>[^}]*)\}", site, flags=re.MULTILINE)
    assert upstream, "deploy/nginx/casehub.conf has no `upstream casehub { ... }`"
    servers = re.findall(r"^\s*server\s+([^\s;]+)", upstream["body"], flags=re.MULTILINE)
    services = compose()["services"]
    replicas = [
        name
        for name, service in services.items()
        if service.get("command", [""])[0] == "serve" and "profiles" not in service
    ]
    assert len(replicas) == 2
    assert servers == [f"{name}:{SERVER_PORT}" for name in replicas]
    assert "./nginx/casehub.conf:/etc/nginx/conf.d/default.conf:ro" in services["nginx"]["volumes"]


def test_the_proxies_accept_every_body_casehub_accepts() -> None:
    # A smaller proxy limit would answer nginx's own HTML 413 where casehub answers in JSON.
    limit = Settings.model_fields["max_request_bytes"].default
    site_limit = re.search(r"client_max_body_size\s+(\w+);", SITE.read_text())
    assert site_limit
    assert size_in_bytes(site_limit[1]) >= limit
    annotations = base_resources()["Ingress"]["metadata"]["annotations"]
    assert size_in_bytes(annotations["nginx.ingress.kubernetes.io/proxy-body-size"]) >= limit


def test_only_the_public_endpoints_are_routed_from_outside() -> None:
    # /metrics answers without a token and /readyz names what is broken: neither is public.
    public = {"/graphql", "/.well-known/casehub-receipts.json"}
    ingress = base_resources()["Ingress"]
    paths = [path for rule in ingress["spec"]["rules"] for path in rule["http"]["paths"]]
    assert {path["path"] for path in paths} == public
    assert {path["pathType"] for path in paths} == {"Exact"}
    locations = re.findall(r"^\s*location\s+(.+?)\s*\{", SITE.read_text(), flags=re.MULTILINE)
    assert sorted(locations) == sorted(["/", *(f"= {path}" for path in public | {"/healthz"})])
    catch_all = re.search(r"location / \{\s*return 404;\s*\}", SITE.read_text())
    assert catch_all, "everything not listed must end at nginx"


def test_probes_check_liveness_and_readiness_apart() -> None:
    (server,) = base_resources()["Deployment"]["spec"]["template"]["spec"]["containers"]
    assert server["livenessProbe"]["httpGet"]["path"] == "/healthz"  # no dependency
    assert server["readinessProbe"]["httpGet"]["path"] == "/readyz"  # database, schema, keys
    assert server["ports"] == [{"name": "http", "containerPort": SERVER_PORT, "protocol": "TCP"}]
    # The port is the image's CASEHUB_PORT (tests/deploy/test_dockerfile.py), not overridden.
    assert server["args"] == ["serve"]
    assert "CASEHUB_PORT" not in base_resources()["ConfigMap"]["data"]


def test_admin_commands_do_not_run_the_migration_again() -> None:
    # `compose run` starts the service's dependencies: a replica's would re-run `migrate`.
    services = compose()["services"]
    admin = services["admin"]
    assert admin["profiles"] == ["admin"]  # never started by `up`
    assert set(admin["depends_on"]) == {"postgres"}
    assert admin["secrets"] == ["casehub-keyring"]
    assert "command" not in admin  # the command line is the `run` arguments


def test_nginx_starts_as_soon_as_the_replicas_are_healthy() -> None:
    # nginx waits for `service_healthy`; the first probe comes after start_interval, not after
    # a whole interval.
    services = compose()["services"]
    replicas = [
        name
        for name, service in services.items()
        if service.get("command") == ["serve"] and "profiles" not in service
    ]
    assert set(services["nginx"]["depends_on"]) == set(replicas)
    for name in replicas:
        healthcheck = services[name]["healthcheck"]
        assert healthcheck["start_interval"] == "1s"
        assert "test" not in healthcheck  # the image's check, on the image's port


def test_new_servers_wait_for_the_schema_instead_of_crash_looping() -> None:
    resources = base_resources()
    pod = resources["Deployment"]["spec"]["template"]["spec"]
    (server,) = pod["containers"]
    keyring, schema = pod["initContainers"]  # in order: the check loads the keyring copy
    assert keyring["name"] == "keyring"
    assert schema["image"] == server["image"]  # the release whose head is awaited
    assert schema["args"][:3] == ["db", "check", "--wait"]
    job = resources["Job"]["spec"]
    assert int(schema["args"][3]) >= job["activeDeadlineSeconds"]  # as long as the migration
    assert schema["env"] == server["env"]  # the same database
    assert schema["envFrom"] == server["envFrom"]
    assert by_name(schema["volumeMounts"])["keyring"] == by_name(server["volumeMounts"])["keyring"]
    # GitOps tools would recreate a Job that deletes itself.
    assert "ttlSecondsAfterFinished" not in job


def test_node_drains_can_evict_pods_that_are_not_ready() -> None:
    # When the database is down no pod is ready: the budget must not block a drain then.
    pdb = base_resources()["PodDisruptionBudget"]["spec"]
    assert pdb["unhealthyPodEvictionPolicy"] == "AlwaysAllow"


def network_peers(policy: dict[str, Any]) -> list[dict[str, Any]]:
    spec = policy["spec"]
    rules = [*spec["ingress"], *spec["egress"]]
    return [peer for rule in rules for peer in rule.get("from", []) + rule.get("to", [])]


def test_every_network_peer_names_its_namespace_and_pods() -> None:
    # A peer without a namespaceSelector means "this namespace"; one without a podSelector,
    # every pod of the namespace.
    for peer in network_peers(base_resources()["NetworkPolicy"]):
        assert set(peer) == {"namespaceSelector", "podSelector"}, peer
        assert set(peer["namespaceSelector"]["matchLabels"]) == {"kubernetes.io/metadata.name"}


def test_no_forwarded_address_is_believed_unless_the_overlay_names_the_proxies() -> None:
    assert base_resources()["ConfigMap"]["data"]["CASEHUB_FORWARDED_ALLOW_IPS"] == ""


def render(overlay: Path) -> list[dict[str, Any]]:
    if not KUBECTL.exists():
        missing = "no .venv-deploy/bin/kubectl (`make validate-deploy` installs it)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{missing}; CI runs make validate-deploy first and must render")
        pytest.skip(missing)
    result = subprocess.run(
        [str(KUBECTL), "kustomize", str(overlay)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return list(yaml.safe_load_all(result.stdout))


def test_the_overlay_sets_network_peers_and_proxies_in_one_place(tmp_path: Path) -> None:
    # A copy of the manifests whose overlay names other peers: every value reaches its field.
    shutil.copytree(DEPLOY / "k8s", tmp_path / "k8s")
    parameters_file = tmp_path / "k8s" / "overlays" / "production" / "network-peers.yaml"
    parameters = yaml.safe_load(parameters_file.read_text())
    chosen = {key: f"x-{key}" for key in parameters["data"]}
    chosen["forwarded-allow-ips"] = "10.42.7.0/24"
    parameters["data"] = chosen
    parameters_file.write_text(yaml.safe_dump(parameters))
    rendered = render(tmp_path / "k8s" / "overlays" / "production")
    kinds = {document["kind"]: document for document in rendered}
    configmaps = [document for document in rendered if document["kind"] == "ConfigMap"]
    assert [document["metadata"]["name"] for document in configmaps] == ["casehub"]  # not emitted
    assert kinds["ConfigMap"]["data"]["CASEHUB_FORWARDED_ALLOW_IPS"] == "10.42.7.0/24"
    ingress_peer, postgresql_peer, dns_peer = network_peers(kinds["NetworkPolicy"])
    namespace = "kubernetes.io/metadata.name"
    assert ingress_peer["namespaceSelector"]["matchLabels"][namespace] == (
        "x-ingress-controller-namespace"
    )
    assert ingress_peer["podSelector"]["matchLabels"] == {
        "app.kubernetes.io/name": "x-ingress-controller-name"
    }
    assert (
        postgresql_peer["namespaceSelector"]["matchLabels"][namespace] == "x-postgresql-namespace"
    )
    assert postgresql_peer["podSelector"]["matchLabels"] == {
        "app.kubernetes.io/name": "x-postgresql-name"
    }
    assert dns_peer["namespaceSelector"]["matchLabels"][namespace] == "x-dns-namespace"
    assert dns_peer["podSelector"]["matchLabels"] == {"k8s-app": "x-dns-k8s-app"}


def test_the_overlay_defaults_are_the_base_values() -> None:
    # Rendered as committed, the overlay's peers are the base's (its parameters file only
    # documents them) and no proxy is believed.
    base = {document["kind"]: document for document in render(BASE)}
    production = {document["kind"]: document for document in render(PRODUCTION)}
    assert network_peers(production["NetworkPolicy"]) == network_peers(base["NetworkPolicy"])
    assert production["ConfigMap"]["data"]["CASEHUB_FORWARDED_ALLOW_IPS"] == ""
