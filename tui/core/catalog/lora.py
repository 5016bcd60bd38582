"""Catalog: LoRA serving, including the seed guide's runtime hot-swap switch."""

from __future__ import annotations

import json

from tui.core.catalog.spec import FlagSpec, t

LORA_RANKS = (1, 8, 16, 32, 64, 128, 256, 320, 512)


def check_lora_module(item: str) -> None:
    """vLLM accepts `name=path` or a JSON object with name and path (ValueError otherwise)."""
    if item.lstrip().startswith("{"):
        try:
            obj = json.loads(item)
        except ValueError:
            raise ValueError(f"{item!r} is not valid JSON") from None
        if not isinstance(obj, dict) or not obj.get("name") or not obj.get("path"):
            raise ValueError('a JSON adapter needs "name" and "path"')
        return
    name, sep, path = item.partition("=")
    if not sep or not name.strip() or not path.strip():
        raise ValueError(f"{item!r} must be name=path or a JSON object")


FLAGS: tuple[FlagSpec, ...] = (
    FlagSpec(
        dest="enable_lora",
        affects_memory=True,
        flag="--enable-lora",
        negatable=True,
        kind="bool",
        group="lora",
        default=False,
        seed=True,
        summary=t(
            "Serve LoRA adapters on top of the base model.",
            "ベースモデルの上で LoRA アダプターを提供します。",
        ),
        details=t(
            "Turns on multi-LoRA serving (Punica kernels): requests can name an adapter as their "
            "model, and several adapters share one copy of the base weights. Handy for serving "
            "adapters fine-tuned with Unsloth or PEFT. Costs GPU memory for the adapter slots "
            "(--max-loras x --max-lora-rank) and some speed, even for requests without an adapter. "
            "Example: --enable-lora --lora-modules sql=/adapters/sql.",
            "マルチ LoRA 提供（Punica カーネル）を有効にします。リクエストはモデル名としてアダプター"
            "を指定でき、複数のアダプターが 1 つのベース重みを共有します。Unsloth や PEFT で"
            "ファインチューニングしたアダプターの提供に便利です。アダプター用スロット"
            "（--max-loras × --max-lora-rank）の GPU メモリと、アダプターを使わないリクエストでも"
            "多少の速度を消費します。例: --enable-lora --lora-modules sql=/adapters/sql",
        ),
        memory=t(
            "Reserves memory for max-loras adapter slots of max-lora-rank.",
            "max-lora-rank のアダプター用スロットを max-loras 個分確保します。",
        ),
        example="--enable-lora",
    ),
    FlagSpec(
        dest="max_loras",
        affects_memory=True,
        flag="--max-loras",
        kind="int",
        group="lora",
        default=1,
        minimum=1,
        seed=True,
        summary=t(
            "How many different adapters may be active in one batch at the same time.",
            "1 つのバッチ内で同時に有効にできるアダプターの種類数。",
        ),
        details=t(
            "Adapters are loaded into this many GPU slots; more adapters can be registered and are "
            "swapped in as a queue (an LRU cache in CPU memory, --max-cpu-loras), so this is what "
            "makes hot-swapping possible. 1 if you serve one adapter, 4-16 for many tenants. Each "
            "slot costs memory proportional to --max-lora-rank. Example: --max-loras 4.",
            "アダプターはこの数の GPU スロットに読み込まれます。それ以上のアダプターも登録でき、"
            "キュー（CPU メモリ上の LRU キャッシュ、--max-cpu-loras）として入れ替えられるため、"
            "これがホットスワップを可能にします。アダプター 1 つなら 1、多数の利用者向けなら 4〜16 "
            "にします。スロットごとに --max-lora-rank に比例したメモリを消費します。例: --max-loras 4",
        ),
        example="--max-loras 4",
    ),
    FlagSpec(
        dest="max_lora_rank",
        affects_memory=True,
        flag="--max-lora-rank",
        kind="choice",
        group="lora",
        default=16,
        choices=LORA_RANKS,
        seed=True,
        summary=t(
            "Largest LoRA rank any served adapter may have.",
            "提供するアダプターが持てる最大の LoRA ランク。",
        ),
        details=t(
            "Slots are sized for this rank, so it must be at least the rank (r) of every adapter "
            "you load; an adapter with a larger rank is rejected. vLLM accepts only "
            "1, 8, 16, 32, 64, 128, 256, 320 and 512. Higher ranks cost more slot memory and "
            "slower LoRA kernels; use the smallest value that covers your adapters. "
            "Example: --max-lora-rank 64.",
            "スロットはこのランクに合わせて確保されるため、読み込むすべてのアダプターのランク (r) "
            "以上である必要があります。これより大きいランクのアダプターは拒否されます。vLLM が"
            "受け付けるのは 1、8、16、32、64、128、256、320、512 のみです。ランクが高いほど"
            "スロットのメモリが増え LoRA カーネルも遅くなるため、アダプターをカバーする最小の値に"
            "してください。例: --max-lora-rank 64",
        ),
        example="--max-lora-rank 64",
    ),
    FlagSpec(
        dest="lora_modules",
        item_check=check_lora_module,
        flag="--lora-modules",
        kind="list",
        group="lora",
        default=None,
        summary=t(
            "Adapters to load at startup: name=path or a JSON object per adapter.",
            "起動時に読み込むアダプター: name=path、またはアダプターごとの JSON オブジェクト。",
        ),
        details=t(
            "Each entry becomes a model name clients can request: 'sql=/adapters/sql' or "
            '\'{"name": "sql", "path": "/adapters/sql", "base_model_name": "..."}\'. '
            "Needs --enable-lora. With runtime updating on, more adapters can be loaded later "
            "without restarting. Example: --lora-modules sql=/adapters/sql chat=/adapters/chat.",
            "各項目はクライアントが指定できるモデル名になります: 'sql=/adapters/sql' または "
            '\'{"name": "sql", "path": "/adapters/sql", "base_model_name": "..."}\'。'
            "--enable-lora が必要です。実行時更新を有効にすれば、再起動せずに後からアダプターを"
            "追加できます。例: --lora-modules sql=/adapters/sql chat=/adapters/chat",
        ),
        example="--lora-modules sql=/adapters/sql",
    ),
    FlagSpec(
        dest="allow_runtime_lora_updating",
        flag=None,
        env="VLLM_ALLOW_RUNTIME_LORA_UPDATING",
        kind="bool",
        group="lora",
        default=False,
        seed=True,
        summary=t(
            "Hot-swap: allow loading/unloading adapters while the server runs (env switch).",
            "ホットスワップ: サーバー稼働中のアダプターの読み込み・解除を許可します（環境変数）。",
        ),
        details=t(
            "Sets VLLM_ALLOW_RUNTIME_LORA_UPDATING=True for the server, which enables the "
            "POST /v1/load_lora_adapter and /v1/unload_lora_adapter endpoints. Together with "
            "--enable-lora and --max-loras 4, up to four adapters are active at once and others "
            "rotate in and out. Anyone who can reach the port can load adapters from paths on the "
            "server, so keep --api-key set and the host private. The Launch screen's LoRA panel "
            "uses these endpoints.",
            "サーバーに VLLM_ALLOW_RUNTIME_LORA_UPDATING=True を設定し、POST /v1/load_lora_adapter "
            "と /v1/unload_lora_adapter エンドポイントを有効にします。--enable-lora と --max-loras 4 "
            "を併用すると、最大 4 つのアダプターが同時に有効になり、ほかのアダプターは入れ替わり"
            "ます。ポートに到達できる人は誰でもサーバー上のパスからアダプターを読み込めるため、"
            "--api-key を設定し、ホストを非公開にしてください。起動画面の LoRA パネルはこれらの"
            "エンドポイントを使います。",
        ),
        example="VLLM_ALLOW_RUNTIME_LORA_UPDATING=True",
    ),
)
