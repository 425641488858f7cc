#!/usr/bin/env python3
"""Benchmark runboard against its peers, and against itself as the input grows.

    python3 scripts/bench.py [--reps N] [--quick] [--only SECTION[,SECTION]] [--write BENCHMARKS.md]

Sections (all by default; --only picks some):

  peer         runboard vs ../shared/bench/peer_matplotlib.py (Python + matplotlib)
               on gen_corpus --runs 100 --points 2000 --formats hf
  tensorboard  runboard building the whole site from TensorBoard event files vs
               TensorBoard's own loader (EventMultiplexer ... Reload(), loading only)
               on gen_corpus --runs 100 --points 2000 --formats tb
  scaling      runboard time and peak memory for 100, 300 and 1,000 runs
               (--formats all --points 5000)
  large        one run of 10 million points (--runs 1 --formats dvclive: one loss
               series of exactly that many points, in a 0.45 GB TSV)
  incremental  a second build into the same output with nothing changed, and with
               one of the 1,000 runs changed, against a full build

Every timing is the wall time of a whole process (started with Popen, reaped with
os.wait4, whose ru_maxrss is the peak memory); each figure is the median of --reps
repetitions (5 for the comparisons, 3 for the rest), after one untimed warm-up of
each command, with the commands compared run in turn (A, B, A, B, ...) so that a
busy machine slows both. Corpora are generated once under target/bench/corpus/,
in a folder named by their parameters, and reused; sites go to target/bench/out/.
The Python tools run in a virtualenv, target/bench-venv, made on first use with
matplotlib and tensorboard. runboard is built with `cargo build --release` first.

--quick uses small sizes and fewer repetitions to try the script; it skips the
large section unless --only names it (then --large-points sets its size).
Orchestration uses only the standard library.
"""
import argparse
import datetime
import hashlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PROJECT = os.path.dirname(HERE)
WORK = os.path.join(PROJECT, "target", "bench")
VENV = os.path.join(PROJECT, "target", "bench-venv")
SECTIONS = ["peer", "tensorboard", "scaling", "large", "incremental"]
PIP_PACKAGES = ["matplotlib", "tensorboard"]
# The large run's format. Line-based, and its one train series has exactly
# --large-points points in ~45 bytes a line; metrics.jsonl at 10M steps is 1.8 GB,
# over runboard's 1 GiB per-file limit (refused unread; --large-format jsonl shows it).
LARGE_FORMATS = ["dvclive", "jsonl", "csv", "mlflow"]

# TensorBoard's own loader, as its backend uses it: every scalar and tensor kept
# (size guidance 0 = no sampling), run folders found and read by Reload().
TB_LOADER = '''\
import json, sys, time
t0 = time.perf_counter()
from tensorboard.backend.event_processing import event_accumulator as ea
from tensorboard.backend.event_processing import event_multiplexer as em
t1 = time.perf_counter()
keep_all = {ea.SCALARS: 0, ea.TENSORS: 0, ea.HISTOGRAMS: 0, ea.COMPRESSED_HISTOGRAMS: 0,
            ea.IMAGES: 0, ea.AUDIO: 0}
mux = em.EventMultiplexer(size_guidance=keep_all)
mux.AddRunsFromDirectory(sys.argv[1])
mux.Reload()
t2 = time.perf_counter()
runs = mux.Runs()
points = sum(len(mux.Scalars(r, t)) for r in runs for t in runs[r]["scalars"])
points += sum(len(mux.Tensors(r, t)) for r in runs for t in runs[r]["tensors"])
print(json.dumps({"import_seconds": t1 - t0, "load_seconds": t2 - t1, "runs": len(runs), "points": points}))
'''

# The figures a build must reach (section, what, goal text, measured key, test).
TARGETS = [
    ("peer", "runboard vs matplotlib report (wall time)", "≥ 30× faster", "peer_ratio", lambda v: v >= 30),
    ("tensorboard", "runboard whole site vs TensorBoard loader (wall time)", "≥ 50× faster",
     "tb_ratio", lambda v: v >= 50),
    ("tensorboard", "... vs the loader's load time alone (no imports)", "≥ 50× faster",
     "tb_load_ratio", lambda v: v >= 50),
    ("scaling", "10× the runs: time ratio", "≤ ~10×", "time_10x", lambda v: v <= 10),
    ("scaling", "10× the runs: peak memory ratio", "≤ 3×", "rss_10x", lambda v: v <= 3),
    ("incremental", "second build, nothing changed / full build", "≤ 0.1", "inc_same", lambda v: v <= 0.1),
    ("incremental", "second build, one run changed / full build", "≤ 0.1", "inc_one", lambda v: v <= 0.1),
]


class BenchError(Exception):
    """Something the benchmark cannot go on without; main() prints it and exits 1."""


def log(message):
    print(f"bench: {message}", file=sys.stderr, flush=True)


def rel(path):
    """A path as the report shows it: relative to the project when inside it or
    beside it (`../shared/bench/...`), else absolute."""
    path = os.path.abspath(path)
    near = path.startswith(os.path.dirname(PROJECT) + os.sep)
    return os.path.relpath(path, PROJECT) if near else path


def shell(cmd):
    return " ".join(rel(c) if os.path.isabs(c) else c for c in cmd)


class Result:
    def __init__(self, seconds, rss_kb, stdout):
        self.seconds, self.rss_kb, self.stdout = seconds, rss_kb, stdout


def measure(cmd, cwd=PROJECT):
    """Run cmd to its end: wall seconds, the child's peak RSS (KiB) and its stdout."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
    if proc.returncode != 0:
        tail = "\n".join(stderr.strip().splitlines()[-15:])
        raise BenchError(f"`{shell(cmd)}` exited with {proc.returncode}:\n{tail}")
    return Result(seconds, usage.ru_maxrss, stdout)


def median(results, key="seconds"):
    return statistics.median(getattr(r, key) for r in results)


def spread(results):
    times = sorted(r.seconds for r in results)
    return f"{fmt_s(statistics.median(times))} (n={len(times)}, {fmt_s(times[0])}–{fmt_s(times[-1])})"


def fmt_s(seconds):
    return f"{seconds:.3f}s" if seconds < 10 else f"{seconds:.1f}s"


def round_ratios(slow, fast):
    """The ratio of each round's pair, run back to back: min–max."""
    ratios = sorted(a.seconds / b.seconds for a, b in zip(slow, fast))
    return f"{ratios[0]:.1f}–{ratios[-1]:.1f}"


def faster(ratio):
    return f"runboard is {ratio:.1f}× faster" if ratio >= 1 else f"runboard is {1 / ratio:.1f}× slower"


def fmt_mb(kb):
    return f"{kb / 1024:.0f} MB" if kb >= 10 * 1024 else f"{kb / 1024:.1f} MB"


class Bench:
    def __init__(self, args, bench_dir):
        self.args = args
        self.bench_dir = bench_dir
        self.gen = os.path.join(bench_dir, "gen_corpus.py")
        self.peer = os.path.join(bench_dir, "peer_matplotlib.py")
        self.commands = []  # (what, command line) in the order first run
        self.figures = {}  # measured key -> value, for the targets table
        self.sections = []  # markdown of each section that ran
        self.runboard = None
        self.python = None
        self.load_start = os.getloadavg()[0]

    def note(self, what, cmd):
        line = shell(cmd)
        if (what, line) not in self.commands:
            self.commands.append((what, line))

    # --- setup ---------------------------------------------------------

    def build_runboard(self):
        log("cargo build --release")
        cmd = ["cargo", "build", "--release", "--quiet"]
        if subprocess.run(cmd, cwd=PROJECT).returncode != 0:
            raise BenchError("cargo build --release failed")
        self.runboard = os.path.join(PROJECT, "target", "release", "runboard")

    def venv_python(self):
        """target/bench-venv's python, made and filled with pip on first use."""
        python = os.path.join(VENV, "bin", "python")
        probe = [python, "-c", "import matplotlib, tensorboard"]
        if os.path.exists(python) and subprocess.run(probe, capture_output=True).returncode == 0:
            return python
        log(f"creating {rel(VENV)} and installing {' '.join(PIP_PACKAGES)} (once)")
        if subprocess.run([sys.executable, "-m", "venv", VENV]).returncode != 0:
            raise BenchError(f"cannot create the virtualenv {rel(VENV)} (is python3-venv installed?)")
        pip = subprocess.run([python, "-m", "pip", "install", "--quiet", *PIP_PACKAGES])
        if pip.returncode != 0:
            raise BenchError(f"pip install {' '.join(PIP_PACKAGES)} into {rel(VENV)} failed (exit "
                             f"{pip.returncode}); see pip's message above")
        if subprocess.run(probe, capture_output=True).returncode != 0:
            raise BenchError(f"matplotlib or tensorboard still not importable in {rel(VENV)}")
        return python

    def versions(self):
        if not self.python:
            return []
        code = "import matplotlib, tensorboard; print(matplotlib.__version__, tensorboard.__version__)"
        out = subprocess.run([self.python, "-c", code], capture_output=True, text=True).stdout.split()
        return [f"matplotlib {out[0]}", f"tensorboard {out[1]}"] if len(out) == 2 else []

    def corpus(self, runs, points, formats):
        """gen_corpus's tree for these parameters, generated once and reused."""
        with open(self.gen, "rb") as f:
            gen_hash = hashlib.sha1(f.read()).hexdigest()[:8]
        name = f"{formats.replace(',', '+')}-runs{runs}-points{points}-gen{gen_hash}"
        path = os.path.join(WORK, "corpus", name)
        cmd = [sys.executable, self.gen, "--runs", str(runs), "--points", str(points),
               "--formats", formats, "--out", path]
        self.note(f"corpus {name}", ["python3", *cmd[1:]])
        if os.path.isdir(path):
            return path
        partial = path + ".partial"
        shutil.rmtree(partial, ignore_errors=True)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        log(f"generating {rel(path)}")
        gen = subprocess.run([*cmd[:-1], partial], stdout=subprocess.DEVNULL)
        if gen.returncode != 0:
            raise BenchError(f"gen_corpus.py failed for {name}")
        os.rename(partial, path)
        return path

    def out(self, name):
        """target/bench/out/NAME, emptied, and its build cache
        (target/bench/out/.runboard-cache/NAME) deleted: a full build starts from nothing.
        Then sync, untimed: otherwise the kernel writes back the previous command's output
        (1.6 GB for 1,000 runs) during the next timed one, and its system time grew from
        1.05 to 4.79 s over three 1,000-run builds in a row."""
        path = os.path.join(WORK, "out", name)
        shutil.rmtree(path, ignore_errors=True)
        shutil.rmtree(os.path.join(WORK, "out", ".runboard-cache", name), ignore_errors=True)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        os.sync()
        return path

    def rb_cmd(self, root, out, cache=False):
        """A full build, --no-cache, unless cache: every section but the
        incremental one times runboard doing all the work."""
        return [self.runboard, "build", root, "-o", out, "--quiet", *([] if cache else ["--no-cache"])]

    def reps(self, default):
        return self.args.reps or (min(default, 2) if self.args.quick else default)

    # --- runs in turn ---------------------------------------------------

    def interleaved(self, commands, reps, label):
        """commands: name -> (prepare, cmd). One untimed warm-up of each, then
        reps rounds of each in turn; prepare() runs untimed before every run."""
        results = {name: [] for name in commands}
        for round_no in range(reps + 1):
            what = "warm-up" if round_no == 0 else f"rep {round_no}/{reps}"
            for name, (prepare, cmd) in commands.items():
                log(f"{label}: {name} {what}")
                prepare()
                result = measure(cmd)
                if round_no:
                    results[name].append(result)
        return results

    # --- sections ---------------------------------------------------------

    def section_peer(self):
        runs, points = (10, 200) if self.args.quick else (100, 2000)
        root = self.corpus(runs, points, "hf")
        rb_out, peer_out = os.path.join(WORK, "out", "peer-runboard"), os.path.join(WORK, "out", "peer-matplotlib")
        rb, peer = self.rb_cmd(root, rb_out), [self.python, self.peer, root, peer_out]
        self.note("runboard on the hf corpus", rb)
        self.note("the matplotlib report on the same corpus", peer)
        res = self.interleaved({
            "runboard": (lambda: self.out("peer-runboard"), rb),
            "matplotlib": (lambda: self.out("peer-matplotlib"), peer),
        }, self.reps(5), "peer")
        ratio = median(res["matplotlib"]) / median(res["runboard"])
        self.figures["peer_ratio"] = ratio
        check = check_peer_outputs(peer_out, rb_out)
        md = [f"## runboard vs a Python + matplotlib report ({runs} runs × {points} points, hf)", "",
              "| Command | Median wall time (n, min–max) | Peak RSS |", "|---|---|---|",
              f"| runboard build | {spread(res['runboard'])} | {fmt_mb(median(res['runboard'], 'rss_kb'))} |",
              f"| peer_matplotlib.py | {spread(res['matplotlib'])} | "
              f"{fmt_mb(median(res['matplotlib'], 'rss_kb'))} (largest process) |",
              "", f"**matplotlib / runboard = {ratio:.1f}: {faster(ratio)}.** "
              f"Round by round: {round_ratios(res['matplotlib'], res['runboard'])}.", "", *check]
        self.sections.append(md)

    def section_tensorboard(self):
        runs, points = (10, 200) if self.args.quick else (100, 2000)
        root = self.corpus(runs, points, "tb")
        loader = os.path.join(WORK, "tb_load.py")
        with open(loader, "w", encoding="utf-8") as f:
            f.write(TB_LOADER)
        rb_out = os.path.join(WORK, "out", "tb-runboard")
        rb, tb = self.rb_cmd(root, rb_out), [self.python, loader, root]
        self.note("runboard on the tb corpus", rb)
        self.note("TensorBoard's loader on the same corpus", tb)
        res = self.interleaved({
            "runboard": (lambda: self.out("tb-runboard"), rb),
            "tensorboard": (lambda: None, tb),
        }, self.reps(5), "tensorboard")
        loads = [json.loads(r.stdout.strip().splitlines()[-1]) for r in res["tensorboard"]]
        load_s = statistics.median(x["load_seconds"] for x in loads)
        import_s = statistics.median(x["import_seconds"] for x in loads)
        rb_s = median(res["runboard"])
        self.figures["tb_ratio"] = median(res["tensorboard"]) / rb_s
        self.figures["tb_load_ratio"] = load_s / rb_s
        rb_points = sum(m["points"] for r in read_runs_json(rb_out) for m in r["metrics"])
        tb_runs = len(read_runs_json(rb_out))
        md = [f"## runboard vs TensorBoard's loader ({runs} runs × {points} points, tb)", "",
              "runboard reads the event files and writes the whole site; TensorBoard's "
              "`EventMultiplexer` only loads them into memory (`AddRunsFromDirectory`, `Reload()`, "
              "size guidance 0 for every kind: nothing sampled away).", "",
              "| Command | Median wall time (n, min–max) | Peak RSS |", "|---|---|---|",
              f"| runboard build | {spread(res['runboard'])} | {fmt_mb(median(res['runboard'], 'rss_kb'))} |",
              f"| python tb_load.py (whole process) | {spread(res['tensorboard'])} | "
              f"{fmt_mb(median(res['tensorboard'], 'rss_kb'))} |",
              f"| ... of which imports / `Reload()` (measured inside) | {fmt_s(import_s)} / {fmt_s(load_s)} | |",
              "", f"**Whole command: TensorBoard / runboard = {self.figures['tb_ratio']:.1f} "
              f"({faster(self.figures['tb_ratio'])}); the load alone (no imports) / runboard = "
              f"{self.figures['tb_load_ratio']:.1f} ({faster(self.figures['tb_load_ratio'])}).** "
              f"Round by round (whole command): {round_ratios(res['tensorboard'], res['runboard'])}.", "",
              f"Points read: runboard {rb_points:,} in {tb_runs} runs, TensorBoard {loads[0]['points']:,} "
              f"in {loads[0]['runs']} runs.", "",
              f"<details><summary>{rel(loader)}</summary>", "", "```python", TB_LOADER.rstrip(), "```", "",
              "</details>"]
        self.sections.append(md)

    def scaling_sizes(self):
        return ([10, 30, 100], 200) if self.args.quick else ([100, 300, 1000], 5000)

    def section_scaling(self):
        sizes, points = self.scaling_sizes()
        roots = {n: self.corpus(n, points, "all") for n in sizes}
        commands = {}
        for n in sizes:
            cmd = self.rb_cmd(roots[n], os.path.join(WORK, "out", f"scaling-{n}"))
            self.note(f"runboard on {n} runs", cmd)
            commands[f"{n} runs"] = (lambda n=n: self.out(f"scaling-{n}"), cmd)
        res = self.interleaved(commands, self.reps(3), "scaling")
        t = {n: median(res[f"{n} runs"]) for n in sizes}
        m = {n: median(res[f"{n} runs"], "rss_kb") for n in sizes}
        a, b, c = sizes
        self.figures["time_10x"] = t[c] / t[a]
        self.figures["rss_10x"] = m[c] / m[a]
        md = [f"## Scaling (gen_corpus --formats all --points {points})", "",
              "| Runs | Median wall time (n, min–max) | Peak RSS |", "|---|---|---|"]
        md += [f"| {n:,} | {spread(res[f'{n} runs'])} | {fmt_mb(m[n])} |" for n in sizes]
        md += ["", f"time({b})/time({a}) = {t[b] / t[a]:.2f}, time({c})/time({a}) = {t[c] / t[a]:.2f}, "
                   f"rss({c})/rss({a}) = {m[c] / m[a]:.2f}"]
        self.sections.append(md)

    def section_large(self):
        points, fmt = self.args.large_points, self.args.large_format
        root = self.corpus(1, points, fmt)
        out = os.path.join(WORK, "out", "large")
        cmd = self.rb_cmd(root, out)
        self.note(f"runboard on one run of {points:,} points", cmd)
        res = self.interleaved({"large": (lambda: self.out("large"), cmd)}, self.reps(3), "large")
        run = read_runs_json(out)[0]
        series = ", ".join(f"{m['name']} {m['points']:,}" for m in run["metrics"]) or "none"
        size = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(root) for f in fs)
        errors = [f"{p['file']}: {p['message']}" for p in run["problems"] if p["severity"] == "error"]
        self.figures["large_s"] = median(res["large"])
        self.figures["large_rss"] = median(res["large"], "rss_kb")
        self.figures["large_unread"] = bool(errors)
        self.sections.append([
            f"## One run of {points:,} logged steps ({fmt}, {size / 1e6:,.0f} MB on disk)", "",
            "| Median wall time (n, min–max) | Peak RSS |", "|---|---|",
            f"| {spread(res['large'])} | {fmt_mb(self.figures['large_rss'])} |", "",
            f"Series read: {series}.",
            *(["", "**runboard did not read it all, so this time is not the time to read it:** "
               + "; ".join(errors)] if errors else [])])

    def section_incremental(self):
        sizes, points = self.scaling_sizes()
        runs = sizes[-1]
        root = self.corpus(runs, points, "all")
        copy = os.path.join(WORK, "incremental-tree")
        shutil.rmtree(copy, ignore_errors=True)
        changed = linked_copy(root, copy)
        full_out, changed_out = os.path.join(WORK, "out", "inc-full"), os.path.join(WORK, "out", "inc-changed")
        full = self.rb_cmd(root, full_out, cache=True)
        same, one = full, self.rb_cmd(copy, changed_out, cache=True)
        self.note(f"runboard on {runs} runs, full build (fresh output, no cache yet)", full)
        self.note("again into the same output, nothing changed", same)
        self.note(f"on a copy of the tree, each time after appending a line to {rel(changed)}", one)
        self.out("inc-changed")
        measure(one)  # the copy's site exists before its first timed rebuild
        res = self.interleaved({
            "full": (lambda: self.out("inc-full"), full),
            "unchanged": (lambda: None, same),
            "one changed": (lambda: append_step(changed), one),
        }, self.reps(3), "incremental")
        t = {k: median(v) for k, v in res.items()}
        self.figures["inc_same"] = t["unchanged"] / t["full"]
        self.figures["inc_one"] = t["one changed"] / t["full"]
        self.sections.append([
            f"## Incremental rebuild ({runs:,} runs × {points} points)", "",
            "| Build | Median wall time (n, min–max) | / full build |", "|---|---|---|",
            f"| full (fresh output and cache) | {spread(res['full'])} | 1.00 |",
            f"| again, nothing changed | {spread(res['unchanged'])} | {self.figures['inc_same']:.2f} |",
            f"| again, one run changed | {spread(res['one changed'])} | {self.figures['inc_one']:.2f} |", "",
            f"The changed run: one line appended to `{os.path.relpath(changed, copy)}` before each timed build."])

    # --- report -----------------------------------------------------------

    def report(self, ran, commit):
        cpu = cpu_model()
        mem = mem_total_gb()
        lines = ["# runboard benchmarks", "",
                 f"- Commit: `{commit}`", f"- Date: {datetime.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}",
                 f"- Machine: {os.cpu_count()} cores ({cpu}), {mem} memory, {platform.system()} "
                 f"{platform.release()}",
                 f"- Load average (1 min) at start and end: {self.load_start:.2f}, {os.getloadavg()[0]:.2f} "
                 "(the machine is shared; the commands compared take turns so both feel the load)",
                 f"- Tools: {rustc_version()}, Python {platform.python_version()}"
                 + "".join(f", {v}" for v in self.versions()),
                 f"- Sections: {', '.join(ran)}; each figure the median of n repetitions (n in its table)",
                 *(["", "**--quick: small sizes; these figures do not answer the targets.**"]
                   if self.args.quick else []),
                 "", "## Targets", "", "| Target | Goal | Measured | Met |", "|---|---|---|---|"]
        for section, what, goal, key, test in TARGETS:
            if section in ran and key in self.figures:
                v = self.figures[key]
                shown = f"{v:.1f}×" if key in ("peer_ratio", "tb_ratio", "tb_load_ratio") else f"{v:.2f}"
                lines.append(f"| {what} | {goal} | {shown} | {'met' if test(v) else 'not met'} |")
        if "large_s" in self.figures:
            unread = " (not read: see below)" if self.figures["large_unread"] else ""
            lines.append(f"| one run of {self.args.large_points:,} steps ({self.args.large_format}) | "
                         f"(figure only) | {fmt_s(self.figures['large_s'])}, "
                         f"{fmt_mb(self.figures['large_rss'])}{unread} | |")
        for md in self.sections:
            lines += [""] + md
        lines += ["", "## Commands", "", "Run from the project folder; `runboard` is `target/release/runboard` "
                  "from `cargo build --release`.", ""]
        lines += [f"- {what}: `{cmd}`" for what, cmd in self.commands]
        return "\n".join(lines) + "\n"


# --- helpers that know the outputs -------------------------------------------

def read_runs_json(site):
    with open(os.path.join(site, "data", "runs.json"), encoding="utf-8") as f:
        return json.load(f)


def check_peer_outputs(peer_out, rb_out):
    """Markdown: which runboard file answers each of the matplotlib report's, and
    whether runboard wrote it for every run the peer drew."""
    by_path = {r["path"]: r["id"] for r in read_runs_json(rb_out)}
    peer_runs = sorted(os.listdir(os.path.join(peer_out, "runs")))
    missing = []
    for slug in peer_runs:
        rid = by_path.get(slug.replace("__", "/"))
        if rid is None:
            missing.append(f"{slug}: no runboard run")
            continue
        for name in ("loss.png", "learning_rate.png", "grad_norm.png", "index.html"):
            if not os.path.isfile(os.path.join(rb_out, "runs", rid, name)):
                missing.append(f"runs/{rid}/{name}")
    overlays = sorted(f for f in os.listdir(os.path.join(rb_out, "charts")) if f.endswith("-loss-val.png"))
    for name in ("index.html", "experiments.md"):
        if not os.path.isfile(os.path.join(rb_out, name)):
            missing.append(name)
    if not overlays:
        missing.append("charts/*-loss-val.png")
    verdict = ("runboard wrote every one of them." if not missing
               else "**Missing from runboard's site:** " + ", ".join(missing[:20]))
    return [f"Outputs: the matplotlib report drew {len(peer_runs)} runs, runboard read {len(by_path)} "
            "(the report skips a run with no top-level `trainer_state.json`, i.e. one that crashed before "
            "its final save; runboard reads it from its last `checkpoint-*/`).", "",
            "| peer_matplotlib.py writes | runboard's counterpart |", "|---|---|",
            "| `runs/<run>/loss.png` (train and eval loss) | `runs/<id>/loss.png` |",
            "| `runs/<run>/lr.png` | `runs/<id>/learning_rate.png` |",
            "| `runs/<run>/grad_norm.png` | `runs/<id>/grad_norm.png` |",
            "| `runs/<run>/index.html` | `runs/<id>/index.html` (the charts inline as SVG) |",
            "| `eval_loss_all.png` (every run's eval loss on one chart) | `charts/<group>-loss-val.png` "
            f"and `.svg`, one per group of two or more runs ({len(overlays)} here): no single chart of all runs |",
            "| `index.html` (a table) | `index.html` |",
            "| `experiments.md` | `experiments.md` |",
            "| (nothing) | `data/runs.json`, `data/runs.csv`, `data/training_runs_comparison.json`, "
            "`runs/<id>/run.json`, accuracy/throughput/time charts, loss by epoch, diagnostics |", "",
            verdict]


def linked_copy(src, dst):
    """dst: a tree of hard links to src's files, except one metrics.jsonl that is
    a real copy (the one the incremental section appends to). Returns its path."""
    shutil.copytree(src, dst, copy_function=link_or_copy)
    for d, dirs, files in os.walk(dst):
        dirs.sort()
        path = os.path.join(d, "metrics.jsonl")
        if "metrics.jsonl" not in files:
            continue
        with open(path, "rb") as f:
            data = f.read()
        if data.endswith(b"\n"):
            os.unlink(path)
            with open(path, "wb") as f:
                f.write(data)
            return path
    raise BenchError(f"no whole metrics.jsonl under {rel(src)} to change")


def link_or_copy(src, dst):
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def append_step(path):
    """One more logged step at the end of a metrics.jsonl: a changed run."""
    with open(path, "rb") as f:
        f.seek(max(0, os.path.getsize(path) - 4096))
        last = json.loads(f.read().splitlines()[-1])
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps({"step": last["step"] + 1, "train/loss": 1.0}) + "\n")


def cpu_model():
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def mem_total_gb():
    try:
        with open("/proc/meminfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def rustc_version():
    out = subprocess.run(["rustc", "--version"], capture_output=True, text=True, cwd=PROJECT).stdout
    return " ".join(out.split()[:2]) or "rustc (unknown)"


def git_commit():
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=PROJECT)
    if head.returncode != 0:
        return "unknown"
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True, cwd=PROJECT).stdout.strip()
    return head.stdout.strip() + (" dirty" if dirty else "")


def find_bench_dir(shared):
    for d in (os.path.join(shared, "bench"), shared):
        if all(os.path.isfile(os.path.join(d, f)) for f in ("gen_corpus.py", "peer_matplotlib.py")):
            return os.path.abspath(d)
    raise BenchError(f"{os.path.join(shared, 'bench')} is missing (no gen_corpus.py and peer_matplotlib.py "
                     "there); give the shared folder with --shared DIR")


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, help="repetitions of every timed command (default 5 for peer and "
                    "tensorboard, 3 for the rest; 2 and 1 with --quick)")
    ap.add_argument("--quick", action="store_true", help="small sizes, few repetitions; skips large unless "
                    "--only names it")
    ap.add_argument("--only", help=f"comma-separated sections: {','.join(SECTIONS)}")
    ap.add_argument("--write", metavar="FILE", help="also write the report to FILE (e.g. BENCHMARKS.md)")
    ap.add_argument("--shared", default=os.path.join(PROJECT, "..", "shared"),
                    help="the shared folder holding bench/gen_corpus.py (default ../shared)")
    ap.add_argument("--large-points", type=int, default=10_000_000,
                    help="logged steps of the large section's one run (default 10,000,000)")
    ap.add_argument("--large-format", choices=LARGE_FORMATS, default=LARGE_FORMATS[0],
                    help="gen_corpus format of that run (default dvclive)")
    args = ap.parse_args()
    if args.reps is not None and args.reps < 1:
        ap.error("--reps must be at least 1")
    if args.only:
        chosen = [s.strip() for s in args.only.split(",") if s.strip()]
        unknown = [s for s in chosen if s not in SECTIONS]
        if unknown:
            ap.error(f"unknown section {', '.join(unknown)}; known: {', '.join(SECTIONS)}")
        args.sections = [s for s in SECTIONS if s in chosen]
    else:
        args.sections = [s for s in SECTIONS if not (args.quick and s == "large")]
    return args


def main():
    args = parse_args()
    try:
        bench = Bench(args, find_bench_dir(args.shared))
        commit = git_commit()
        bench.build_runboard()
        if {"peer", "tensorboard"} & set(args.sections):
            bench.python = bench.venv_python()
        for section in args.sections:
            getattr(bench, f"section_{section}")()
    except BenchError as err:
        print(f"bench: error: {err}", file=sys.stderr)
        return 1
    report = bench.report(args.sections, commit)
    print(report, end="")
    if args.write:
        with open(args.write, "w", encoding="utf-8") as f:
            f.write(report)
        log(f"wrote {args.write}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
