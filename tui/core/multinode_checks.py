"""Checks for a plan over several nodes (and for the Ray backend on any number of nodes).

Reached from validation through one hook rule; what it needs besides the config travels in
`Context.extra`: `nodes` (int), `gpus_per_node` (int), `cluster` (a multinode.Cluster),
`device` ("cpu" for the CPU build), `model_is_local` (bool, when the caller looked).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tui.core.catalog import t
from tui.core.catalog.parallel import world_size
from tui.core.config import ServeConfig
from tui.core.fix import Fix
from tui.core.gpu_catalog import GpuSpec
from tui.core.multinode import Cluster

if TYPE_CHECKING:
    from tui.core.validate import Context, Finding

#: Environment variables that pick the network interface the nodes talk over.
NETWORK_ENV = ("NCCL_SOCKET_IFNAME", "GLOO_SOCKET_IFNAME", "VLLM_HOST_IP")
RAY_PORT = 6379
MASTER_PORT = 29500


def _finding(level: str, code: str, flags: tuple[str, ...], en: str, ja: str, fix: Fix | None = None) -> Finding:  # fmt: skip
    from tui.core.validate import Finding

    return Finding(level, code, flags, t(en, ja), fix)  # type: ignore[arg-type]


def multinode_findings(cfg: ServeConfig, ctx: Context) -> list[Finding]:
    """All multi-node findings for `cfg` (none for a plain one-node config)."""
    extra: dict[str, Any] = ctx.extra
    out = _ray_on_cpu(cfg, extra.get("device"))
    cluster: Cluster | None = extra.get("cluster")
    nodes = extra.get("nodes")
    if cluster is not None and cluster.backend is not None and nodes is None:
        nodes = len(cluster.alive)
    if not nodes:
        return out
    gpn = extra.get("gpus_per_node") or (cluster.gpus_per_node if cluster else 0)
    out += _capacity(cfg, int(nodes), int(gpn), cluster, ctx.gpus)
    if cluster is not None and cluster.backend is not None:
        out += _cluster_health(cluster, ctx.vllm_version)
    if nodes > 1:
        out += _model_reach(cfg, extra.get("model_is_local"))
        out += _network(cfg, bool(extra.get("ifname")))
    return out


def _ray_on_cpu(cfg: ServeConfig, device: str | None) -> list[Finding]:
    if device != "cpu" or cfg.get("distributed_executor_backend") != "ray":
        return []
    return [
        _finding(
            "error",
            "ray-cpu-build",
            ("--distributed-executor-backend",),
            "The installed vLLM is the CPU build, which cannot use Ray's executor (vLLM stops "
            "with 'current platform cpu does not support ray'). Use the mp backend on one node, "
            "or a CUDA build of vLLM on every node of the cluster.",
            "インストールされている vLLM は CPU 版で、Ray のエグゼキューターを使えません（vLLM は "
            "'current platform cpu does not support ray' で停止します）。1 ノードで mp バック"
            "エンドを使うか、クラスタのすべてのノードに CUDA 版の vLLM を入れてください。",
            Fix(
                t("Unset --distributed-executor-backend", "--distributed-executor-backend を外す"),
                (("distributed_executor_backend", None),),
            ),
        )
    ]


def _capacity(
    cfg: ServeConfig, nodes: int, gpn: int, cluster: Cluster | None, gpus: tuple[GpuSpec, ...]
) -> list[Finding]:
    tp = int(cfg.get("tensor_parallel_size") or 1)
    pp = int(cfg.get("pipeline_parallel_size") or 1)
    dp = world_size(cfg) // (tp * pp)
    need = tp * pp * dp
    have = cluster.gpus_total if cluster and cluster.backend else nodes * gpn
    out: list[Finding] = []
    if gpn and nodes > 1 and need < have and dp == 1 and (tp, pp) != (gpn, nodes):
        out.append(_idle_nodes(nodes, gpn, need))
    if gpn and need > have:
        missing = need - have
        more_nodes = -(-missing // gpn)
        kind = _gpu_kind(cluster, gpus)
        fix = None
        if tp * dp <= have and have // (tp * dp) >= 1 and pp > have // (tp * dp):
            new_pp = have // (tp * dp)
            fix = Fix(
                t(f"Use --pipeline-parallel-size {new_pp}", f"--pipeline-parallel-size {new_pp} を使う"),
                (("pipeline_parallel_size", new_pp),),
            )  # fmt: skip
        out.append(
            _finding(
                "error",
                "cluster-gpus",
                ("--tensor-parallel-size", "--pipeline-parallel-size", "--data-parallel-size"),
                f"TP {tp} x PP {pp} x DP {dp} = {need} GPUs, but {nodes} node{'s' if nodes != 1 else ''} "
                f"x {gpn} GPUs = {have}: {missing} {kind}GPUs missing ({more_nodes} more node"
                f"{'s' if more_nodes != 1 else ''} of {gpn}).",
                f"TP {tp} × PP {pp} × DP {dp} = {need} 枚の GPU が必要ですが、{nodes} ノード × "
                f"{gpn} 枚 = {have} 枚しかありません。{kind}GPU が {missing} 枚不足しています"
                f"（{gpn} 枚のノードがあと {more_nodes} 台必要）。",
                fix,
            )
        )
    if gpn and tp > gpn:
        fix = None
        if need % (gpn * dp) == 0 and need // (gpn * dp) >= 1:
            new_pp = need // (gpn * dp)
            fix = Fix(
                t(f"Use -tp {gpn} -pp {new_pp}", f"-tp {gpn} -pp {new_pp} を使う"),
                (("tensor_parallel_size", gpn), ("pipeline_parallel_size", new_pp)),
            )
        out.append(
            _finding(
                "warning",
                "tp-across-nodes",
                ("--tensor-parallel-size",),
                f"TP {tp} is more than the {gpn} GPUs of one node: every layer all-reduces across "
                "the network, which works but is slow. The usual layout is TP = GPUs per node and "
                "PP = number of nodes.",
                f"TP {tp} は 1 ノードの GPU 数 {gpn} を超えています。レイヤーごとの all-reduce が"
                "ネットワーク越しになり、動きますが遅くなります。通常は TP = ノードあたりの GPU 数、"
                "PP = ノード数にします。",
                fix,
            )
        )
    return out


def _idle_nodes(nodes: int, per_node: int, used: int) -> Finding:
    """Several nodes planned while TP x PP uses fewer GPUs: vLLM's layout for a cluster is
    TP = GPUs per node and PP = nodes (the bring-up scripts need it to use them all)."""
    return _finding(
        "warning",
        "nodes-idle",
        ("--tensor-parallel-size", "--pipeline-parallel-size"),
        f"{nodes} nodes x {per_node} GPUs planned but TP x PP = {used}: the usual layout across "
        f"nodes is TP {per_node} (GPUs per node) x PP {nodes} (nodes).",
        f"{nodes} ノード × {per_node} 枚を計画していますが TP × PP = {used} です。ノードをまたぐ"
        f"通常の構成は TP {per_node}（ノードあたりの GPU 数）× PP {nodes}（ノード数）です。",
        Fix(
            t(f"Use -tp {per_node} -pp {nodes}", f"-tp {per_node} -pp {nodes} を使う"),
            (("tensor_parallel_size", per_node), ("pipeline_parallel_size", nodes)),
        ),
    )


def _gpu_kind(cluster: Cluster | None, gpus: tuple[GpuSpec, ...]) -> str:
    """'H100 ' when every GPU is of one known kind (for "8 H100 GPUs missing")."""
    if cluster is not None and cluster.backend:
        kinds = [k for k in cluster.gpu_types if k != "unknown"]
        return kinds[0] + " " if len(kinds) == 1 and len(cluster.gpu_types) == 1 else ""
    names = {g.name.split(" ")[0] for g in gpus}
    return names.pop() + " " if len(names) == 1 else ""


def _cluster_health(cluster: Cluster, local_version: str | None) -> list[Finding]:
    out: list[Finding] = []
    if len(cluster.gpu_types) > 1 or len({n.gpus for n in cluster.alive if n.gpus}) > 1:
        types = ", ".join(cluster.gpu_types)
        out.append(
            _finding(
                "warning",
                "mixed-gpus",
                (),
                f"The nodes have different GPUs ({types}; counts "
                f"{sorted({n.gpus for n in cluster.alive})}): vLLM plans every GPU like the "
                "smallest one, and uneven nodes leave GPUs idle.",
                f"ノードの GPU が揃っていません（{types}、枚数 "
                f"{sorted({n.gpus for n in cluster.alive})}）。vLLM はすべての GPU を最小のものに"
                "合わせて計画し、枚数の違うノードでは GPU が遊びます。",
            )
        )
    dead = [n for n in cluster.nodes if not n.alive]
    if dead:
        ips = ", ".join(n.ip or n.node_id[:8] for n in dead)
        out.append(
            _finding(
                "warning",
                "dead-nodes",
                (),
                f"{len(dead)} node(s) of the cluster are dead ({ips}); their GPUs are not counted.",
                f"クラスタの {len(dead)} ノードが停止しています（{ips}）。その GPU は数えていません。",
            )
        )
    versions = {n.vllm_version for n in cluster.alive if n.vllm_version}
    if local_version:
        versions.add(local_version)
    if len(versions) > 1:
        listed = ", ".join(sorted(versions))
        out.append(
            _finding(
                "error",
                "vllm-version-mismatch",
                (),
                f"The nodes run different vLLM versions ({listed}); Ray workers must import the "
                "same vLLM as the head. Install one version everywhere.",
                f"ノードごとに vLLM のバージョンが異なります（{listed}）。Ray のワーカーはヘッドと"
                "同じ vLLM を使う必要があります。すべてのノードで同じバージョンを入れてください。",
            )
        )
    return out


def looks_local(model: str) -> bool:
    """A folder rather than a Hugging Face id ('org/name')."""
    return model.startswith(("/", "./", "../", "~")) or model.count("/") > 1


def _model_reach(cfg: ServeConfig, model_is_local: bool | None) -> list[Finding]:
    local = looks_local(cfg.model) if model_is_local is None else model_is_local
    if local:
        return [
            _finding(
                "warning",
                "model-path-local",
                (),
                f"{cfg.model} is a folder on this machine: every node loads its own part of the "
                "weights from the same path, so put it on a shared filesystem or copy it to that "
                "path on every node.",
                f"{cfg.model} はこのマシン上のフォルダです。各ノードが同じパスから自分の担当分の"
                "重みを読むため、共有ファイルシステムに置くか、すべてのノードの同じパスにコピー"
                "してください。",
            )
        ]
    return [
        _finding(
            "info",
            "model-weights-each-node",
            (),
            f"Every node needs the weights of {cfg.model}: each downloads them unless HF_HOME "
            "points to a shared cache (or run `huggingface-cli download` on each node first). "
            "Gated models need HF_TOKEN in every node's environment.",
            f"すべてのノードに {cfg.model} の重みが必要です。HF_HOME が共有キャッシュを指して"
            "いなければ各ノードがダウンロードします（先に各ノードで `huggingface-cli download` "
            "しておく方法もあります）。ゲート付きモデルは全ノードの環境に HF_TOKEN が必要です。",
        )
    ]


def _network(cfg: ServeConfig, ifname_given: bool) -> list[Finding]:
    env = dict(cfg.env)
    missing = [name for name in NETWORK_ENV[:2] if name not in env]
    out: list[Finding] = []
    if missing and not ifname_given:
        out.append(
            _finding(
                "info",
                "network-interface",
                (),
                "With several network interfaces, set NCCL_SOCKET_IFNAME and GLOO_SOCKET_IFNAME "
                "to the one that reaches the other nodes (e.g. eth0, ib0) and VLLM_HOST_IP to each "
                "node's own address on it, on every node, before `ray start`.",
                "ネットワークインターフェースが複数ある場合は、各ノードで `ray start` の前に "
                "NCCL_SOCKET_IFNAME と GLOO_SOCKET_IFNAME を他ノードに届くもの（例: eth0、ib0）に、"
                "VLLM_HOST_IP をそのインターフェース上の自ノードのアドレスに設定してください。",
            )
        )
    out.append(
        _finding(
            "info",
            "multinode-ports",
            (),
            f"Open between the nodes: Ray's port ({RAY_PORT}) and its node/object manager ports, "
            f"NCCL's TCP ports, and for vLLM's own multi-node mode the --master-port "
            f"({MASTER_PORT}); clients only need the head's --port.",
            f"ノード間で開けるポート: Ray のポート（{RAY_PORT}）とノード／オブジェクトマネージャー"
            f"のポート、NCCL の TCP ポート、vLLM 自身の複数ノードモードでは --master-port"
            f"（{MASTER_PORT}）。クライアントに必要なのはヘッドの --port だけです。",
        )
    )
    return out


def ray_refusal(cfg: ServeConfig, installed_device: str) -> str | None:
    """Why the installed vLLM cannot launch `cfg` at all (the CPU build with Ray), or None."""
    found = _ray_on_cpu(cfg, installed_device)
    return found[0].message.en if found else None
