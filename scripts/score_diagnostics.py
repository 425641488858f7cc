#!/usr/bin/env python3
"""Score runboard's diagnostics against gen_corpus.py's ground truth.

    python3 scripts/score_diagnostics.py [--runs 200] [--points 300] [--formats all] [--keep DIR]
    python3 scripts/score_diagnostics.py --realruns ../shared/realruns

Generates a corpus with `../shared/bench/gen_corpus.py --truth`, builds it with
the release binary (built first with cargo), and compares `data/runs.json`:

- precision and recall per diagnostic code, a run counting as flagged when it has
  the code at warning or error severity (info notes such as "watch the gap" are
  advice, not findings); the truth's scenario gives the expected code
  (overfit -> overfitting, underfit -> underfitting, diverged -> diverged,
  crashed -> crashed);
- whether the first non-finite step of the main train loss, and the best val
  step, equal the truth's exactly.

With --realruns it builds that folder instead and prints every diagnostic, to be
read by a person: on real runs there is no truth, only judgement.
Uses only the standard library.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
PROJECT = os.path.dirname(HERE)
GEN = os.path.join(PROJECT, "..", "shared", "bench", "gen_corpus.py")
EXPECTED = {"overfit": "overfitting", "underfit": "underfitting", "diverged": "diverged", "crashed": "crashed"}
SCORED = ["overfitting", "underfitting", "diverged", "crashed"]


def runboard():
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=PROJECT, check=True)
    return os.path.join(PROJECT, "target", "release", "runboard")


def build(root, out):
    subprocess.run([runboard(), "build", root, "-o", out, "--quiet"], check=True)
    with open(os.path.join(out, "data", "runs.json")) as f:
        data = json.load(f)
    return data["runs"] if isinstance(data, dict) else data


def match(truth_run, runs):
    for r in runs:
        if r["name"] == truth_run["name"] or r["path"] == truth_run["path"] + "#" + truth_run["name"]:
            return r
    for r in runs:
        if r["path"].startswith(truth_run["path"] + "/"):
            return r
    return None


def flagged(run):
    return {d["code"] for d in run["diagnostics"] if d["severity"] in ("warning", "error")}


def main_train_loss(run):
    for m in run["metrics"]:
        if m["family"] == "loss" and m["split"] == "train":
            return m
    return None


def score(truth, runs):
    truth_runs = truth["runs"]
    counts = {code: {"tp": 0, "fp": 0, "fn": 0} for code in SCORED}
    missing, nonfinite_ok, nonfinite_n, best_ok, best_n = 0, 0, 0, 0, 0
    misses = []
    for t in truth_runs:
        r = match(t, runs)
        if r is None:
            missing += 1
            continue
        got = flagged(r)
        want = EXPECTED.get(t["scenario"])
        for code in SCORED:
            if code in got and code == want:
                counts[code]["tp"] += 1
            elif code in got:
                counts[code]["fp"] += 1
                misses.append(f"false {code}: {r['name']} ({t['scenario']})")
            elif code == want:
                counts[code]["fn"] += 1
                misses.append(f"missed {code}: {r['name']} ({t['format']})")
        train = main_train_loss(r)
        if t["first_nonfinite_step"] is not None or (train and train["first_nonfinite_step"] is not None):
            nonfinite_n += 1
            nonfinite_ok += int(train is not None and train["first_nonfinite_step"] == t["first_nonfinite_step"])
        if t["best_val_step"] is not None:
            best_n += 1
            best_ok += int(r["headline"].get("best_val_step") == t["best_val_step"])
    print(f"runs: {len(truth_runs)} in the truth, {len(truth_runs) - missing} found in runs.json")
    print(f"{'code':<14}{'precision':>10}{'recall':>8}   tp  fp  fn")
    for code in SCORED:
        c = counts[code]
        p = c["tp"] / (c["tp"] + c["fp"]) if c["tp"] + c["fp"] else float("nan")
        rec = c["tp"] / (c["tp"] + c["fn"]) if c["tp"] + c["fn"] else float("nan")
        print(f"{code:<14}{p:>10.3f}{rec:>8.3f}  {c['tp']:>3} {c['fp']:>3} {c['fn']:>3}")
    print(f"first non-finite step exact: {nonfinite_ok} of {nonfinite_n}")
    print(f"best val step exact:         {best_ok} of {best_n}")
    for line in misses:
        print("  " + line)
    return counts


def realruns(root):
    out = tempfile.mkdtemp(prefix="runboard-real-")
    try:
        for r in build(root, os.path.join(out, "site")):
            print(f"{r['path']}  [{r['format']}, {r['status']}]")
            for d in r["diagnostics"]:
                print(f"    {d['severity']:<8}{d['code']:<13}{d['message']}")
    finally:
        shutil.rmtree(out, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--points", type=int, default=300)
    ap.add_argument("--formats", default="all")
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--keep", help="keep the corpus and site in this folder")
    ap.add_argument("--realruns", help="build this folder and print its diagnostics instead")
    args = ap.parse_args()
    if args.realruns:
        realruns(args.realruns)
        return
    work = args.keep or tempfile.mkdtemp(prefix="runboard-score-")
    corpus, truth_file, site = (os.path.join(work, n) for n in ("corpus", "truth.json", "site"))
    if os.path.exists(corpus):
        shutil.rmtree(corpus)
    cmd = [sys.executable, GEN, "--out", corpus, "--runs", str(args.runs), "--points", str(args.points),
           "--formats", args.formats, "--truth", truth_file]
    if args.seed is not None:
        cmd += ["--seed", str(args.seed)]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    try:
        with open(truth_file) as f:
            truth = json.load(f)
        score(truth, build(corpus, site))
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
