"""docker / compose / Kubernetes exports: secrets never written, YAML parsed back, Kubernetes
objects validated against the official client's API models (a misspelled or misplaced field
is dropped by the model and fails the round trip)."""

from __future__ import annotations

import re
import shlex

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from kubernetes.client import ApiClient

from tui.core.config import SECRET_DESTS, ServeConfig
from tui.core.exports import (
    Target,
    compose_dict,
    compose_yaml,
    docker_argv,
    docker_text,
    k8s_objects,
    k8s_yaml,
    leader_serve_args,
)

from ..strategies import configs

API_KEY = "sk-export-SECRET-0c9e1f"
HF = "hf_exportSECRETtoken42"
NCCL_PW = "pw-SECRET-in-env-77"

CFG = ServeConfig.build(
    "meta-llama/Llama-3.1-70B-Instruct",
    {
        "tensor_parallel_size": 4,
        "max_model_len": 16384,
        "api_key": API_KEY,
        "hf_token": HF,
        "gpu_memory_utilization": 0.92,
    },
    env={"NCCL_DEBUG": "INFO", "MY_PASSWORD": NCCL_PW},
).with_gpus("0,1,2,3")
TARGET = Target(version="0.32.0+cpu", hf_cache="/data/hf")

_API = ApiClient()


def validate(obj: dict, model: str) -> object:
    """Deserialize into the official model and serialize back: identical, or a field was
    unknown, misplaced or of the wrong type (required fields raise on construction)."""
    typed = _API._ApiClient__deserialize(obj, model)
    back = _API.sanitize_for_serialization(typed)
    assert back == obj, (model, back, obj)
    return typed


def all_texts(cfg: ServeConfig, target: Target) -> list[str]:
    return [
        docker_text(cfg, target),
        " ".join(docker_argv(cfg, target)),
        compose_yaml(cfg, target),
        k8s_yaml(cfg, target),
        k8s_yaml(cfg, Target(nodes=2, hf_cache="pvc:")),
        docker_text(cfg, Target(env_file="secrets.env")),
    ]


def test_no_secret_value_in_any_export():
    for text in all_texts(CFG, TARGET):
        for secret in (API_KEY, HF, NCCL_PW):
            assert secret not in text
    assert "NCCL_DEBUG=INFO" in docker_text(CFG, TARGET)  # plain env keeps its value


@settings(
    max_examples=150, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck)
)
@given(configs(with_secrets=True))
def test_no_secret_value_in_any_export_for_random_configs(cfg):
    marker = "q7zSECRETq7z"
    cfg = cfg.update({d: marker + d for d, _ in cfg.values if d in SECRET_DESTS})
    cfg = cfg.with_env({**dict(cfg.env), "X_API_KEY": marker + "env"})
    for text in all_texts(cfg, TARGET):
        assert marker not in text


def test_docker_run():
    argv = docker_argv(CFG, TARGET)
    text = docker_text(CFG, TARGET)
    assert argv[:2] == ["docker", "run"]
    assert argv[argv.index("--gpus") + 1] == '"device=0,1,2,3"'
    assert "--ipc=host" in argv
    assert argv[argv.index("-v") + 1] == "/data/hf:/root/.cache/huggingface"
    assert argv[argv.index("-p") + 1] == "127.0.0.1:8000:8000"
    image = argv.index("vllm/vllm-openai:v0.32.0")
    serve = argv[image + 1 :]
    assert serve[:2] == ["--model", CFG.model]
    assert serve[serve.index("--host") + 1] == "0.0.0.0"  # inside the container: all interfaces
    for name in ("VLLM_API_KEY", "HF_TOKEN", "MY_PASSWORD"):
        assert argv[argv.index(name) - 1] == "-e"
    assert "CUDA_VISIBLE_DEVICES" not in text  # --gpus picks the devices
    assert shlex.split(text.replace("\\\n", " ").split("\n", 1)[1]) == argv


def test_docker_publishes_on_the_chosen_host_and_reads_an_env_file():
    cfg = ServeConfig.build("m/x", {"host": "0.0.0.0", "port": 9000, "api_key": API_KEY})
    argv = docker_argv(cfg, Target(env_file="vllm.env"))
    assert argv[argv.index("-p") + 1] == "0.0.0.0:9000:9000"
    assert argv[argv.index("--gpus") + 1] == "all"
    assert argv[argv.index("--env-file") + 1] == "vllm.env"
    assert "VLLM_API_KEY" not in argv and "vllm/vllm-openai:latest" in argv
    v6 = docker_argv(cfg.set("host", "::1"), Target())
    assert v6[v6.index("-p") + 1] == "[::1]:9000:9000"


def test_compose_service_parses_back_with_a_health_check():
    doc = yaml.safe_load(compose_yaml(CFG, TARGET))
    assert doc == compose_dict(CFG, TARGET)
    svc = doc["services"]["vllm"]
    assert svc["image"] == "vllm/vllm-openai:v0.32.0"
    assert svc["ipc"] == "host"
    assert svc["ports"] == ["127.0.0.1:8000:8000"]
    assert "/health" in " ".join(svc["healthcheck"]["test"])
    assert svc["healthcheck"]["start_period"] == "1800s"
    assert svc["deploy"]["resources"]["reservations"]["devices"][0]["device_ids"] == [
        "0",
        "1",
        "2",
        "3",
    ]
    assert "VLLM_API_KEY" in svc["environment"] and "NCCL_DEBUG=INFO" in svc["environment"]
    assert svc["command"][:2] == ["--model", CFG.model]


def test_compose_escapes_dollars():
    cfg = ServeConfig.build("m/x", {"served_model_name": ["cost$1"]})
    svc = compose_dict(cfg, Target())["services"]["vllm"]
    assert "cost$$1" in svc["command"]


def test_k8s_deployment_and_service_validate_against_the_api_models():
    docs = list(yaml.safe_load_all(k8s_yaml(CFG, TARGET)))
    assert docs == k8s_objects(CFG, TARGET)
    kinds = [d["kind"] for d in docs]
    assert kinds == ["Deployment", "Service"]
    dep = validate(docs[0], "V1Deployment")
    svc = validate(docs[1], "V1Service")
    pod = dep.spec.template.spec
    (c,) = pod.containers
    assert c.image == "vllm/vllm-openai:v0.32.0"
    assert c.resources.limits == {"nvidia.com/gpu": "4"}
    for probe in (c.startup_probe, c.readiness_probe, c.liveness_probe):
        assert probe.http_get.path == "/health" and probe.http_get.port == 8000
    # the startup allowance covers a long model load before liveness can kill the pod
    assert c.startup_probe.failure_threshold * c.startup_probe.period_seconds >= 1800
    refs = {e.name: e.value_from.secret_key_ref for e in c.env if e.value_from}
    assert set(refs) == {"VLLM_API_KEY", "HF_TOKEN", "MY_PASSWORD"}
    assert all(r.name == "vllm-secrets" and r.key == n for n, r in refs.items())
    volumes = {v.name: v for v in pod.volumes}
    assert volumes["hf-cache"].host_path.path == "/data/hf"
    assert volumes["shm"].empty_dir.medium == "Memory"
    assert {m.mount_path for m in c.volume_mounts} == {"/root/.cache/huggingface", "/dev/shm"}
    assert dep.spec.selector.match_labels == dep.spec.template.metadata.labels
    assert svc.spec.selector == dep.spec.template.metadata.labels
    assert svc.spec.ports[0].target_port == 8000
    assert c.args[:2] == ["--model", CFG.model]


def test_k8s_with_a_pvc_cache():
    docs = k8s_objects(CFG, Target(hf_cache="pvc:models:500Gi", namespace="llm"))
    claim = validate(docs[0], "V1PersistentVolumeClaim")
    assert claim.metadata.name == "models" and claim.spec.resources.requests == {"storage": "500Gi"}
    dep = validate(docs[1], "V1Deployment")
    assert dep.metadata.namespace == "llm"
    cache = next(v for v in dep.spec.template.spec.volumes if v.name == "hf-cache")
    assert cache.persistent_volume_claim.claim_name == "models"


def test_multi_node_is_a_leader_worker_set_that_starts_ray():
    cfg = ServeConfig.build(
        "deepseek-ai/DeepSeek-V3",
        {"tensor_parallel_size": 8, "pipeline_parallel_size": 2, "api_key": API_KEY},
    )
    docs = list(yaml.safe_load_all(k8s_yaml(cfg, Target(nodes=2))))
    assert [d["kind"] for d in docs] == ["LeaderWorkerSet", "Service"]
    lws = docs[0]
    assert lws["apiVersion"] == "leaderworkerset.x-k8s.io/v1"
    tmpl = lws["spec"]["leaderWorkerTemplate"]
    assert tmpl["size"] == 2 and tmpl["restartPolicy"] == "RecreateGroupOnPodRestart"
    leader = validate(tmpl["leaderTemplate"], "V1PodTemplateSpec")
    worker = validate(tmpl["workerTemplate"], "V1PodTemplateSpec")
    (lc,) = leader.spec.containers
    (wc,) = worker.spec.containers
    assert lc.resources.limits == wc.resources.limits == {"nvidia.com/gpu": "8"}
    script = lc.command[-1]
    assert script.startswith("ray start --head --port=6379")
    assert '"$(LWS_GROUP_SIZE)"' in script
    assert not re.search(r"(?<!\$)\$\(seq", script) and "$$(seq" in script  # escaped for k8s
    args = leader_serve_args(script)
    assert args[args.index("--distributed-executor-backend") + 1] == "ray"
    assert args[args.index("--pipeline-parallel-size") + 1] == "2"
    assert "ray start --address=$(LWS_LEADER_ADDRESS):6379 --block" in wc.command[-1]
    assert lc.readiness_probe.http_get.path == "/health"
    svc = validate(docs[1], "V1Service")
    assert svc.spec.selector["role"] == "leader"
    assert leader.metadata.labels["role"] == "leader"
    assert API_KEY not in yaml.safe_dump_all(docs)


def test_k8s_escapes_dollars_in_args():
    cfg = ServeConfig.build("m/x", {"served_model_name": ["$(HOME)"]})
    (dep, _) = k8s_objects(cfg, Target())
    assert "$$(HOME)" in dep["spec"]["template"]["spec"]["containers"][0]["args"]


@pytest.mark.parametrize(
    ("version", "tag"),
    [
        (None, "vllm/vllm-openai:latest"),
        ("0.11.0", "vllm/vllm-openai:v0.11.0"),
        ("v0.9.2", "vllm/vllm-openai:v0.9.2"),
    ],
)
def test_image_tag_follows_the_version(version, tag):
    assert Target(version=version).tag == tag
