"""GpuPanel: the detected GPUs (memory bar, processes) with a choice of which ones vLLM gets;
or, in planning mode, the planning GPU and how many of them, with the reason."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive
from textual.widgets import Static

from tui.core.catalog import t
from tui.messages import GpuRowsShown, GpusChosen, PlanningGpuChanged

if TYPE_CHECKING:  # annotations only: NVML's adapter loads after the first frame, and the
    # GPU list and the planning selects with what they show (the first frame says "detecting")
    from textual.widgets import Select, SelectionList

    from tui.adapters.gpus import Gpu, GpuSnapshot
    from tui.core.multinode import Cluster

BAR = 12
NODE_CHOICES = (1, 2, 3, 4, 8)


def memory_bar(used: int | None, total: int | None) -> str:
    if not used or not total:
        return "·" * BAR
    filled = max(0, min(BAR, round(BAR * used / total)))
    return "█" * filled + "░" * (BAR - filled)


def gpu_line(g: Gpu) -> str:
    from tui.core.gpu_catalog import GiB

    used, total = g.memory_used_bytes, g.memory_total_bytes
    mem = f"{(used or 0) / GiB:5.1f}/{(total or 0) / GiB:5.1f} GiB" if total else "memory ?"
    procs = ", ".join(
        f"{p.name or p.pid}{'' if p.mine in (True, None) else '*'} {(p.used_bytes or 0) / GiB:.1f}G"
        for p in g.processes[:3]
    )
    label = g.key if g.mig_parent is not None else str(g.index)
    return f"{label} {g.name.replace('NVIDIA ', '')[:24]} {memory_bar(used, total)} {mem}" + (
        f"  {procs}" if procs else ""
    )


class GpuPanel(Vertical):
    """Shows `snapshot`; in planning mode shows `planning_gpu` x `planning_count`."""

    DEFAULT_CSS = """
    GpuPanel { height: auto; border: round $primary 40%; border-title-color: $primary; padding: 0 1; }
    GpuPanel #gpu-reason { color: $warning; }
    GpuPanel SelectionList { height: auto; max-height: 8; border: none; padding: 0; }
    GpuPanel #planning { height: auto; }
    GpuPanel #planning Select { width: 2fr; min-width: 12; }
    GpuPanel #planning #count { width: 2fr; max-width: 26; }
    GpuPanel #planning #nodes { width: 1fr; min-width: 10; max-width: 13; }
    """

    snapshot: reactive[GpuSnapshot | None] = reactive(None, recompose=True)
    """Detected GPUs (None until the first probe finishes)."""
    chosen: reactive[tuple[str, ...]] = reactive((), recompose=True)
    """Keys of the GPUs vLLM gets (empty = all visible)."""
    planning_gpu: reactive[str] = reactive("H100 80GB", recompose=True)
    planning_count: reactive[int] = reactive(1, recompose=True)
    planning_nodes: reactive[int] = reactive(1, recompose=True)
    """Nodes of the planned cluster (more than one plans a Ray cluster of these boxes)."""
    lang: reactive[str] = reactive("en", recompose=True)
    cluster: reactive[Cluster | None] = reactive(None, recompose=True)
    """A Ray cluster the app found (shown as one line: nodes x GPUs)."""

    def __init__(self, id: str | None = None, reserve: int = 0) -> None:
        super().__init__(id=id)
        self.reserve = reserve
        """Rows to hold while detecting (what the panel took at the last start)."""

    def on_resize(self) -> None:
        if self.snapshot is not None:
            self.post_message(GpuRowsShown(self.size.height))

    def compose(self) -> ComposeResult:
        lang = self.lang

        def tr(en: str, ja: str) -> str:
            return t(en, ja).get(lang)

        self.border_title = "GPUs"
        if self.cluster is not None and self.cluster.backend:
            yield Static(self.cluster.summary_text().get(self.lang), id="cluster")
        snap = self.snapshot
        if snap is None:
            detecting = Static(tr("detecting GPUs…", "GPU を検出しています…"))
            detecting.styles.min_height = max(1, self.reserve)  # the rows of the last start
            yield detecting
            return
        from textual.widgets import Select, SelectionList
        from textual.widgets.selection_list import Selection

        visible = snap.visible_gpus()
        if visible:
            self.border_title = tr(
                f"GPUs · driver {snap.driver_version or '?'} · CUDA {snap.cuda_version or '?'}",
                f"GPU · ドライバ {snap.driver_version or '?'} · CUDA {snap.cuda_version or '?'}",
            )
            chosen = set(self.chosen or (g.key for g in visible))
            yield SelectionList[str](
                *(Selection(gpu_line(g), g.key, g.key in chosen) for g in visible), id="gpu-list"
            )
            if any(p.mine is False for g in visible for p in g.processes):
                yield Static(
                    tr("* another user's process", "* 他のユーザーのプロセス"), classes="dim"
                )
            return
        self.border_title = tr("GPUs · planning mode", "GPU · 計画モード")
        yield Static(
            tr(
                f"No GPU here: {snap.reason}. Planning for:",
                f"ここには GPU がありません: {snap.reason}。計画の対象:",
            ),
            id="gpu-reason",
        )
        with Horizontal(id="planning"):
            from tui.core.gpu_catalog import GPU_CATALOG

            names = [g.name for g in GPU_CATALOG]
            yield Select(
                [(n, n) for n in names],
                value=self.planning_gpu if self.planning_gpu in names else names[0],
                allow_blank=False,
                id="planning-gpu",
                compact=True,
            )
            per = tr("/node", "/ノード") if self.planning_nodes > 1 else ""
            auto = (
                tr("x auto", "x 自動")
                if per
                else tr("x auto (TP x PP x DP)", "x 自動 (TP x PP x DP)")
            )
            counts = [(auto + per, 0)] + [(f"x {n}{per}", n) for n in (1, 2, 4, 8, 16)]
            yield Select(
                counts,
                value=self.planning_count if self.planning_count in (0, 1, 2, 4, 8, 16) else 0,
                allow_blank=False,
                id="count",
                compact=True,
            )
            nodes = [
                (tr("1 node", "1 ノード"), 1),
                *((tr(f"{n} nodes", f"{n} ノード"), n) for n in NODE_CHOICES[1:]),
            ]
            yield Select(
                nodes,
                value=self.planning_nodes if self.planning_nodes in NODE_CHOICES else 1,
                allow_blank=False,
                id="nodes",
                compact=True,
            )

    def on_selection_list_selected_changed(self, event: SelectionList.SelectedChanged[str]) -> None:
        event.stop()
        self.post_message(GpusChosen(tuple(event.selection_list.selected)))

    def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()
        from textual.widgets import Select

        gpu = self.query_one("#planning-gpu", Select).value
        count = self.query_one("#count", Select).value
        nodes = self.query_one("#nodes", Select).value
        if isinstance(gpu, str) and isinstance(count, int) and isinstance(nodes, int):
            self.post_message(PlanningGpuChanged(gpu, count, nodes))
