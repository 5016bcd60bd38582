"""App start-up and responsiveness. Prints numbers; asserts nothing.

1. Time from process start to the first painted frame (headless), median of N runs, next to a
   bare Textual "hello world" measured in the same run.
2. Modules imported by then (and which heavy ones are deliberately not).
3. Keystroke-to-repaint latency of the VRAM panel: typing into --max-model-len until the panel
   shows the new estimate (Pilot, includes Textual's own event loop).

`--terminal [COLSxROWS]`: the same as a user feels it, in a real terminal (the app on a pty):
time to the first frame, keystroke to the VRAM figure changing, and bytes written to the
terminal per keystroke, each beside a bare Textual app measured in the same run, with ratios.

Both sides run with compiled bytecode, as an installed package has it (pip compiles on
install; a source checkout writes __pycache__ on its first run): the children get a bytecode
cache of their own (PYTHONPYCACHEPREFIX, outside the tree) that a warm-up run fills, even when
this shell sets PYTHONDONTWRITEBYTECODE. Without it every run of the app recompiled its ~100
modules while Textual loaded its site-packages bytecode, which measured the compiler, not the app.
"""

from __future__ import annotations

import asyncio
import atexit
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
N = int(os.environ.get("N", "5"))
PYCACHE = tempfile.mkdtemp(prefix="vllm-tui-bench-pyc-")
atexit.register(shutil.rmtree, PYCACHE, True)


def child_env(**extra: str) -> dict[str, str]:
    """The environment of a measured child: its own bytecode cache (see the module doc)."""
    env = dict(os.environ, PYTHONPYCACHEPREFIX=PYCACHE, **extra)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


APP = r"""
import os, sys, time, json
t0 = float(sys.argv[1])
from tui.app import make_app
from tui.adapters.services import Services
svc = Services.demo_services()
app = make_app(services=svc, model="Qwen/Qwen3-8B")
def first_frame():
    mods = sorted(sys.modules)
    print(json.dumps({"first_frame": time.time() - t0, "modules": len(mods),
                      "heavy": [m for m in ("torch", "vllm", "huggingface_hub", "httpx", "pynvml", "psutil", "yaml", "prometheus_client", "textual", "rich") if m in sys.modules]}))
    app.exit()
app.call_after_refresh(lambda: app.call_after_refresh(first_frame))
app.run(headless=True, size=(160, 48))
"""

HELLO = r"""
import sys, time, json
t0 = float(sys.argv[1])
from textual.app import App
from textual.widgets import Static
class Hello(App):
    def compose(self):
        yield Static("hello world")
    def on_mount(self):
        self.call_after_refresh(lambda: self.call_after_refresh(self.done))
    def done(self):
        print(json.dumps({"first_frame": time.time() - t0}))
        self.exit()
Hello().run(headless=True, size=(160, 48))
"""


def measure(code: str) -> list[dict]:
    out = []
    env = child_env(VLLM_TUI_HOME=tempfile.mkdtemp(prefix="vllm-tui-bench-"), HF_HUB_OFFLINE="1")
    for i in range(N + 1):  # the first run fills the bytecode cache and is not counted
        t0 = time.time()
        proc = subprocess.run(
            [sys.executable, "-c", code, repr(t0)],
            capture_output=True,
            text=True,
            cwd=ROOT,
            env=env,
            timeout=120,
        )
        line = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
        if not line:
            raise SystemExit(proc.stderr[-2000:])
        if i:
            out.append(json.loads(line[-1]))
    return out


async def keystroke_latency() -> list[float]:
    os.environ.setdefault("VLLM_TUI_HOME", tempfile.mkdtemp(prefix="vllm-tui-bench-"))
    from tui.adapters.services import Services
    from tui.app import make_app
    from tui.widgets.vram_panel import VramPanel

    app = make_app(services=Services.demo_services(), model="Qwen/Qwen3-8B")
    async with app.run_test(size=(160, 48)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        form = app.screen.query_one("#form")
        if hasattr(form, "focus_flag"):  # the line-API form: one editor over the focused row
            field = form.focus_flag("max_model_len")
        else:
            field = app.screen.query_one("#ctl-max_model_len")
            field.focus()
        panel = app.screen.query_one(VramPanel)
        return await _type_values(
            pilot, field, lambda v: f"at {int(v):,} tokens" in str(panel.render())
        )


async def keystroke_baseline() -> list[float]:
    """The same measurement on a bare Textual app: one Input echoed into one Static."""
    from textual.app import App
    from textual.widgets import Input, Static

    class Echo(App):
        def compose(self):
            yield Input(id="i")
            yield Static(id="s")

        def on_input_changed(self, event):
            self.query_one("#s", Static).update(f"at {event.value} tokens")

    app = Echo()
    async with app.run_test(size=(160, 48)) as pilot:
        field = app.query_one("#i", Input)
        field.focus()
        label = app.query_one("#s", Static)
        return await _type_values(pilot, field, lambda v: f"at {v} tokens" in str(label.render()))


async def _type_values(pilot, field, shown) -> list[float]:
    """Type each value into FIELD; seconds per keystroke until shown(value) holds."""
    times = []
    for value in ("4096", "8192", "16384", "32768", "2048", "40960"):
        field.value = ""
        await pilot.pause()
        t0 = time.perf_counter()
        await pilot.press(*value)
        while not shown(value):
            await asyncio.sleep(0)
        times.append((time.perf_counter() - t0) / len(value))
    return times


def plan_cost() -> float:
    os.environ.setdefault("VLLM_TUI_HOME", tempfile.mkdtemp(prefix="vllm-tui-bench-"))
    from tui.core.arch_catalog import builtin_facts
    from tui.core.config import ServeConfig
    from tui.core.gpu_catalog import find_gpu
    from tui.core.plan import plan

    facts = builtin_facts("Qwen/Qwen3-235B-A22B")
    gpu = find_gpu("H100")
    t0 = time.perf_counter()
    for i in range(200):
        plan(
            facts,
            ServeConfig.build("m", {"max_model_len": 1000 + i, "tensor_parallel_size": 8}),
            (gpu,) * 8,
            planning=True,
        )
    return (time.perf_counter() - t0) / 200


# -- real terminal: the app under a pty, bytes and times as a user's terminal sees them ------

TTY_APP = r"""
import os, sys
from pathlib import Path
ready = Path(sys.argv[1])
from tui.app import make_app
from tui.adapters.services import Services
app = make_app(services=Services.demo_services(), model="Qwen/Qwen3-8B")
def focus():
    screen = app.screen
    form = screen.query("#form")
    target = None
    if form and hasattr(form.first(), "focus_flag"):
        target = form.first().focus_flag("max_model_len")
    else:
        target = screen.query_one("#ctl-max_model_len")
        target.focus()
    if hasattr(target, "cursor_blink"):
        target.cursor_blink = False
    ready.write_text("ok")
async def main():
    import asyncio
    task = asyncio.create_task(app.run_async())
    await asyncio.sleep(2.5)
    focus()
    await task
import asyncio
asyncio.run(main())
"""

TTY_CLI = r"""
import sys
from tui.cli import main
sys.exit(main(["--demo", "--model", "Qwen/Qwen3-8B"]))
"""
"""The app as a user starts it (`vllm-tui --demo --model Qwen/Qwen3-8B`): the command's own
start-up (its collector pause, argument parsing) is part of what the user waits for."""

TTY_HELLO = r"""
import sys
from textual.app import App
from textual.widgets import Static
class Hello(App):
    def compose(self):
        yield Static("hello world")
Hello().run()
"""

TTY_ECHO = r"""
import sys
from pathlib import Path
ready = Path(sys.argv[1])
from textual.app import App
from textual.widgets import Input, Static
class Echo(App):
    def compose(self):
        yield Input(id="i")
        yield Static(id="s")
    def on_mount(self):
        self.set_timer(1.0, self.go)
    def go(self):
        i = self.query_one("#i", Input)
        i.focus()
        i.cursor_blink = False
        ready.write_text("ok")
    def on_input_changed(self, event):
        try:
            self.query_one("#s", Static).update(f"at {int(event.value):,} tokens")
        except ValueError:
            self.query_one("#s", Static).update("")
Echo().run()
"""

_ESC = None


def _strip(data: bytes) -> str:
    import re

    global _ESC
    if _ESC is None:
        _ESC = re.compile(
            r"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|P[^\x1b]*\x1b\\|[()][0-9A-B]|[=>78])"
        )
    return _ESC.sub("", data.decode("utf-8", "ignore"))


class Tty:
    """A child process on a pty of a given size; reads what it writes to the terminal."""

    def __init__(self, code: str, size: tuple[int, int], args: tuple[str, ...] = ()) -> None:
        import fcntl
        import pty  # noqa: F401  (POSIX only, like the app's terminal driver)
        import struct
        import termios

        cols, rows = size
        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        env = child_env(
            TERM="xterm-256color",
            COLORTERM="truecolor",
            VLLM_TUI_HOME=tempfile.mkdtemp(prefix="vllm-tui-bench-"),
            HF_HUB_OFFLINE="1",
        )
        env.pop("TEXTUAL", None)
        self.t0 = time.perf_counter()
        self.proc = subprocess.Popen(
            [sys.executable, "-c", code, *args],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            cwd=ROOT,
            env=env,
            start_new_session=True,
        )
        os.close(slave)
        self.buffer = b""

    def read(self, timeout: float) -> bytes:
        import select

        ready, _, _ = select.select([self.master], [], [], timeout)
        if not ready:
            return b""
        try:
            return os.read(self.master, 1 << 20)
        except OSError:
            return b""

    def until(self, text: str, timeout: float = 30.0) -> tuple[float, int]:
        """Seconds and bytes until the stripped output contains `text`."""
        start, count, seen = time.perf_counter(), 0, ""
        while time.perf_counter() - start < timeout:
            chunk = self.read(0.05)
            count += len(chunk)
            seen = (seen + _strip(chunk))[-20000:]
            if text in seen:
                return time.perf_counter() - start, count
        raise SystemExit(f"timed out waiting for {text!r}; last output: {seen[-500:]!r}")

    def quiet(self, gap: float = 0.3, limit: float = 10.0) -> int:
        """Read until nothing arrives for `gap` seconds; bytes read."""
        count, start = 0, time.perf_counter()
        while time.perf_counter() - start < limit:
            chunk = self.read(gap)
            if not chunk:
                break
            count += len(chunk)
        return count

    def send(self, keys: str) -> None:
        os.write(self.master, keys.encode())

    def close(self) -> None:
        import signal

        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        os.close(self.master)


def tty_first_frame(
    code: str, marker: str, size: tuple[int, int], then: str | None = None
) -> tuple[float, int, float]:
    """Seconds from spawn to `marker` on screen, bytes written until the screen is quiet, and
    seconds from spawn to `then` (what the stages after the first frame bring) or 0."""
    tty = Tty(code, size, (tempfile.mktemp(),))
    try:
        tty.until(marker)
        first = time.perf_counter() - tty.t0
        later, count = 0.0, 0
        if then is not None:
            _, count = tty.until(then)
            later = time.perf_counter() - tty.t0
        return first, count + tty.quiet(0.5), later
    finally:
        tty.close()


def tty_keystrokes(
    code: str, size: tuple[int, int], values: tuple[str, ...]
) -> list[tuple[float, int]]:
    """(seconds to the figure, bytes until quiet) per key, typing each value into an empty field."""
    flag = Path(tempfile.mktemp())
    tty = Tty(code, size, (str(flag),))
    out: list[tuple[float, int]] = []
    try:
        deadline = time.perf_counter() + 60
        while not flag.exists() and time.perf_counter() < deadline:
            tty.read(0.05)
        tty.quiet(0.5)
        for value in values:
            for i in range(1, len(value) + 1):
                tty.send(value[i - 1])
                took, count = tty.until(f"at {int(value[:i]):,} tokens", timeout=10)
                out.append((took, count + tty.quiet(0.15)))
            tty.send("\x7f" * len(value))
            tty.quiet(0.5)
    finally:
        tty.close()
        flag.unlink(missing_ok=True)
    return out


def terminal_main(size: tuple[int, int]) -> int:
    n = int(os.environ.get("N", "5"))
    med = statistics.median
    tty_first_frame(TTY_CLI, "max-model-len", size)  # warm-up: fills the bytecode cache
    tty_first_frame(TTY_APP, "max-model-len", size)
    tty_first_frame(TTY_HELLO, "hello world", size)
    app_ff: list[tuple[float, int, float]] = []
    hello_ff: list[tuple[float, int, float]] = []
    for _ in range(n):  # interleaved, so a slow spell of the machine hits both sides alike
        app_ff.append(tty_first_frame(TTY_CLI, "max-model-len", size, then="KV tokens"))
        hello_ff.append(tty_first_frame(TTY_HELLO, "hello world", size))
    a, h = med(r[0] for r in app_ff), med(r[0] for r in hello_ff)
    full = med(r[2] for r in app_ff)
    print(f"real terminal (pty {size[0]}x{size[1]}, median of {n})")
    print(
        f"  first frame (layout + the guide's flags): vllm-tui {a * 1000:.0f} ms, "
        f"bare hello world {h * 1000:.0f} ms  ratio {a / h:.2f}x"
    )
    print(
        f"  the first estimate on screen (VRAM figures, checks, command): {full * 1000:.0f} ms "
        f"({full / h:.2f}x hello world); {med(r[1] for r in app_ff) / 1024:.0f} KB written "
        "by the time the screen is quiet"
    )
    values = ("65536", "32768")
    app_keys: list[tuple[float, int]] = []
    echo_keys: list[tuple[float, int]] = []
    try:
        for _ in range(max(1, n // 2)):
            app_keys += tty_keystrokes(TTY_APP, size, values)
            echo_keys += tty_keystrokes(TTY_ECHO, size, values)
    except SystemExit as exc:  # the figure is not on screen at this size (e.g. cut at 24 rows)
        print(f"  keystroke: not measured at {size[0]}x{size[1]}: {str(exc)[:120]}...")
        return 0
    ak, ek = med(t for t, _ in app_keys), med(t for t, _ in echo_keys)
    ab, eb = med(b for _, b in app_keys), med(b for _, b in echo_keys)
    print(
        f"  keystroke -> VRAM figure: vllm-tui median {ak * 1000:.1f} ms (max {max(t for t, _ in app_keys) * 1000:.0f}), "
        f"bare Input+Static {ek * 1000:.1f} ms  ratio {ak / ek:.2f}x"
    )
    print(
        f"  bytes per keystroke: vllm-tui median {ab / 1024:.1f} KB (max {max(b for _, b in app_keys) / 1024:.1f}, "
        f"first digit {app_keys[0][1] / 1024:.1f}), bare Input+Static {eb / 1024:.1f} KB  ratio {ab / max(eb, 1):.1f}x"
    )
    return 0


def main() -> int:
    if "--terminal" in sys.argv:
        return terminal_main(_size_arg())
    app = measure(APP)
    hello = measure(HELLO)
    a = statistics.median(r["first_frame"] for r in app)
    h = statistics.median(r["first_frame"] for r in hello)
    print(
        f"first frame (headless, median of {N}): vllm-tui {a * 1000:.0f} ms, bare Textual hello world {h * 1000:.0f} ms (+{(a - h) * 1000:.0f} ms)"
    )
    print(
        f"modules imported by the first frame: {app[0]['modules']}; of the heavy ones: {', '.join(app[0]['heavy'])}"
    )
    print(
        "  (not imported in the UI process: torch, vllm; huggingface_hub/pynvml/httpx load in workers when needed)"
    )
    lat = asyncio.run(keystroke_latency())
    base = asyncio.run(keystroke_baseline())
    print(
        f"keystroke -> VRAM panel repaint: median {statistics.median(lat) * 1000:.1f} ms, max {max(lat) * 1000:.1f} ms per key (Pilot, {len(lat)} edits)"
    )
    print(
        f"  same measurement on a bare Textual Input+Static app: median {statistics.median(base) * 1000:.1f} ms per key (Pilot's own cost)"
    )
    print(f"pure re-estimate (plan + validation, Qwen3-235B TP8): {plan_cost() * 1000:.2f} ms")
    return 0


def _size_arg() -> tuple[int, int]:
    for arg in sys.argv:
        if "x" in arg and arg.replace("x", "").isdigit():
            cols, rows = arg.split("x")
            return int(cols), int(rows)
    return (160, 48)


if __name__ == "__main__":
    sys.exit(main())
