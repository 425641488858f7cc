//! End-to-end: build `example_experiments/` and the hostile fixture with the
//! real binary into temporary folders, then check the files a user opens.

mod common;

use common::{build_with, tree_bytes};
use serde_json::Value;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn runboard(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_runboard"))
        .args(args)
        .output()
        .expect("runboard runs")
}

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("example_experiments")
}

fn runs_json(site: &Path) -> Vec<Value> {
    let text = fs::read_to_string(site.join("data/runs.json")).unwrap();
    serde_json::from_str::<Value>(&text)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

fn run_by_path<'a>(runs: &'a [Value], path: &str) -> &'a Value {
    runs.iter()
        .find(|r| r["path"] == path)
        .unwrap_or_else(|| panic!("no run at {path}"))
}

fn metric<'a>(run: &'a Value, name: &str) -> &'a Value {
    run["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == name)
        .unwrap_or_else(|| panic!("no {name}"))
}

/// The number after `label` on the last line of `text` that has it.
fn last_value_after(text: &str, label: &str) -> f64 {
    let line = text.lines().rfind(|l| l.contains(label)).unwrap();
    line.split(label).nth(1).unwrap().trim().parse().unwrap()
}

#[test]
fn builds_every_example_run_with_pages_charts_and_exports() {
    let tmp = tempfile::tempdir().unwrap();
    let site = tmp.path().join("site");
    build_with(&examples(), &site, &[]);
    for file in [
        "index.html",
        "experiments.md",
        "data/runs.json",
        ".nojekyll",
        "assets/style.css",
        "assets/runboard.js",
    ] {
        assert!(site.join(file).is_file(), "{file} missing");
    }
    let runs = runs_json(&site);
    assert!(runs.len() >= 8, "only {} runs", runs.len());
    let index = fs::read_to_string(site.join("index.html")).unwrap();
    for run in &runs {
        let id = run["id"].as_str().unwrap();
        let dir = site.join("runs").join(id);
        assert!(dir.join("index.html").is_file(), "page of {id}");
        assert!(dir.join("run.json").is_file(), "run.json of {id}");
        assert!(dir.join("loss.png").is_file(), "loss chart of {id}");
        let page = fs::read_to_string(dir.join("index.html")).unwrap();
        assert!(page.contains("<svg"), "inline chart on {id}");
        assert!(
            index.contains(&format!("href=\"runs/{id}/index.html\"")),
            "index links {id}"
        );
        for key in [
            "id",
            "name",
            "format",
            "path",
            "group",
            "status",
            "params",
            "metrics",
            "diagnostics",
            "problems",
        ] {
            assert!(run.get(key).is_some(), "{id} lacks {key}");
        }
    }
}

#[test]
fn numbers_in_runs_json_equal_what_the_logs_say() {
    let tmp = tempfile::tempdir().unwrap();
    let site = tmp.path().join("site");
    build_with(&examples(), &site, &[]);
    let runs = runs_json(&site);

    let base = "successful/2026-03-02_tinyllama-base";
    let log = fs::read_to_string(examples().join(base).join("training.log")).unwrap();
    let run = run_by_path(&runs, base);
    assert_eq!(run["status"], "completed");
    assert_eq!(
        metric(run, "loss")["last"].as_f64().unwrap(),
        last_value_after(&log, "Final training loss:")
    );
    assert_eq!(
        metric(run, "Validation loss")["last"].as_f64().unwrap(),
        last_value_after(&log, "Final validation loss:")
    );

    // The overfitting run: best val comes long before the end.
    let long = run_by_path(&runs, "successful/2026-03-04_tinyllama-long");
    let val = metric(long, "Validation loss");
    assert!(val["best_step"].as_u64().unwrap() < val["points"].as_u64().unwrap() * 100);
    assert!(val["last"].as_f64().unwrap() > val["best"].as_f64().unwrap());

    // The failed run: status and reason quote the error with its place.
    let oom = run_by_path(&runs, "failed/2026-03-05_tinyllama-oom");
    assert_eq!(oom["status"], "failed");
    let reason = oom["status_reason"].as_str().unwrap();
    assert!(
        reason.contains("CUDA out of memory") && reason.contains("training.log:44"),
        "{reason}"
    );

    // A corrupt config is a problem with its line, and the run is still there with its curves.
    let corrupt = run_by_path(&runs, "successful/2026-03-06_corrupt-config");
    let problem = &corrupt["problems"][0];
    assert_eq!(
        problem["file"],
        "successful/2026-03-06_corrupt-config/config.yaml"
    );
    assert_eq!(problem["line"], 11);
    assert_eq!(problem["severity"], "error");
    assert!(metric(corrupt, "loss")["points"].as_u64().unwrap() > 10);

    // NaN is kept and located.
    let diverged = run_by_path(&runs, "jsonl/2026-03-08_diverged");
    assert_eq!(metric(diverged, "train/loss")["first_nonfinite_step"], 725);
    assert_eq!(metric(diverged, "train/loss")["last"], "NaN");

    // A torn last line is a warning on its line; the complete lines are all read.
    let torn = run_by_path(&runs, "jsonl/2026-03-09_torn-writer");
    let problem = &torn["problems"][0];
    assert_eq!(
        (problem["line"].as_u64(), problem["severity"].as_str()),
        (Some(150), Some("warning"))
    );
    assert_eq!(metric(torn, "train/loss")["last_step"], 1360);
}

#[test]
fn run_pages_show_problems_events_samples_and_artifacts() {
    let tmp = tempfile::tempdir().unwrap();
    let site = tmp.path().join("site");
    build_with(&examples(), &site, &[]);
    let runs = runs_json(&site);
    let page = |path: &str| {
        let id = run_by_path(&runs, path)["id"].as_str().unwrap().to_string();
        fs::read_to_string(site.join("runs").join(id).join("index.html")).unwrap()
    };
    let base = page("successful/2026-03-02_tinyllama-base");
    assert!(base.contains("Validation samples") && base.contains("<details"));
    assert!(base.contains("training_curves.png"), "image artifact shown");
    assert!(base.contains("final_model"), "model folder listed");
    assert!(
        base.contains("checkpoint"),
        "checkpoint event or folder shown"
    );
    let oom = page("failed/2026-03-05_tinyllama-oom");
    assert!(oom.contains("Traceback (most recent call last)"));
    let diverged = page("jsonl/2026-03-08_diverged");
    let lr_chart = diverged
        .split("id=\"chart-learning_rate\"")
        .nth(1)
        .unwrap()
        .split("</figure>")
        .next()
        .unwrap();
    assert!(
        !lr_chart.contains("best "),
        "no 'best' learning rate is marked"
    );
    let loss_chart = diverged
        .split("id=\"chart-loss\"")
        .nth(1)
        .unwrap()
        .split("</figure>")
        .next()
        .unwrap();
    assert!(
        loss_chart.contains("best 1.392"),
        "the best val loss is marked"
    );
    let corrupt = page("successful/2026-03-06_corrupt-config");
    assert!(corrupt.contains("config.yaml:11"));
}

#[test]
fn the_index_overlays_the_runs_of_each_group() {
    let tmp = tempfile::tempdir().unwrap();
    let site = tmp.path().join("site");
    build_with(&examples(), &site, &[]);
    let index = fs::read_to_string(site.join("index.html")).unwrap();
    assert!(index.contains("<h2>Comparisons</h2>"));
    let groups = [
        ("jsonl", &["diverged", "torn-writer"][..]),
        (
            "lr-sweep",
            &["lr-1e-3", "lr-1e-4", "lr-3e-4 · mean of 3 seeds"][..],
        ),
        ("successful", &["tinyllama-base", "tinyllama-long"][..]),
    ];
    for (group, names) in groups {
        for split in ["val", "train"] {
            let stem = format!("charts/{group}-loss-{split}");
            let img = format!("<img src=\"{stem}.svg\"");
            let at = index
                .find(&img)
                .unwrap_or_else(|| panic!("{stem} not on the index"));
            assert!(index[at..]
                .split('>')
                .next()
                .unwrap()
                .contains("loading=\"lazy\""));
            assert!(site.join(format!("{stem}.png")).is_file(), "{stem}.png");
            let svg = fs::read_to_string(site.join(format!("{stem}.svg"))).unwrap();
            for name in names {
                assert!(svg.contains(&format!("\n{name}\n")), "{stem} names {name}");
            }
        }
    }
    assert!(
        !index.contains("charts/failed-"),
        "a group of one run is no comparison"
    );
}

/// `lr-sweep` is three learning rates, one of them run with three seeds: its
/// page shows what differs, the result against the learning rate on a log
/// axis, and the seeds as one mean line with a band; the index folds the
/// seeds into one row that expands.
#[test]
fn a_sweep_gets_a_group_page_and_its_seeds_fold_into_one_row() {
    let tmp = tempfile::tempdir().unwrap();
    let site = tmp.path().join("site");
    build_with(&examples(), &site, &[]);
    let page = fs::read_to_string(site.join("groups/lr-sweep/index.html")).unwrap();
    assert!(
        !site.join("groups/failed").exists(),
        "a group of one run has no page"
    );
    // What differs: only the learning rate and the seed, a column per run.
    let diff = page
        .split("<table class=\"param-diff\">")
        .nth(1)
        .and_then(|t| t.split("</table>").next())
        .expect("a param-difference table");
    let params: Vec<&str> = diff
        .split("<tr><th title=\"")
        .skip(1)
        .map(|row| row.split('"').next().unwrap())
        .collect();
    assert_eq!(params, ["optimizer.lr", "seed"]);
    assert_eq!(diff.matches("href=\"../../runs/lr-sweep-").count(), 5);
    // Which value was best: best val loss against lr, on a log axis, lazily loaded.
    let sweep = "charts/lr-sweep-sweep-optimizer-lr";
    assert!(page.contains(&format!("<img src=\"../../{sweep}.svg\"")));
    let svg = fs::read_to_string(site.join(format!("{sweep}.svg"))).unwrap();
    assert!(
        svg.contains("\n1e-4\n") && svg.contains("\n1e-3\n"),
        "log ticks"
    );
    assert!(
        svg.contains("best 1.0352 at lr = 0.0003"),
        "the best run ringed"
    );
    // The seeds are one line with a band in the comparison.
    let curves = fs::read_to_string(site.join("charts/lr-sweep-loss-val.svg")).unwrap();
    assert!(
        curves.contains("lr-3e-4 · mean of 3 seeds")
            && curves.contains("<polygon opacity=\"0.16\"")
    );
    // The index: one row of means that expands to the three runs; the group links to its page.
    let index = fs::read_to_string(site.join("index.html")).unwrap();
    let set = index
        .split("<tbody class=\"seedset\">")
        .nth(1)
        .and_then(|t| t.split("</tbody>").next())
        .expect("a seed set on the index");
    assert!(set.contains("3 seeds") && set.matches("<tr class=\"member\">").count() == 3);
    for run in ["lr-3e-4", "lr-3e-4-seed1", "lr-3e-4-seed2"] {
        assert!(
            set.contains(&format!("href=\"runs/lr-sweep-{run}/index.html\"")),
            "{run}"
        );
    }
    assert!(index.contains("<a href=\"groups/lr-sweep/index.html\" title=\"compare the runs of this group\">lr-sweep</a>"));
    let run_page = fs::read_to_string(site.join("runs/lr-sweep-lr-1e-3/index.html")).unwrap();
    assert!(
        run_page.contains("<a href=\"../../groups/lr-sweep/index.html\""),
        "the crumb leads to the group"
    );
    let lone =
        fs::read_to_string(site.join("runs/failed-2026-03-05-tinyllama-oom/index.html")).unwrap();
    assert!(
        !lone.contains("groups/"),
        "a group of one has no page to link"
    );
}

#[test]
fn run_pages_offer_other_x_axes_and_group_system_charts() {
    let tmp = tempfile::tempdir().unwrap();
    let site = tmp.path().join("site");
    build_with(&examples(), &site, &[]);
    let dir = site.join("runs/lr-sweep-lr-1e-3");
    let page = fs::read_to_string(dir.join("index.html")).unwrap();
    for axis in ["wall_time", "epoch"] {
        let svg = format!("loss-by-{axis}.svg");
        assert!(dir.join(&svg).is_file(), "{svg}");
        assert!(
            page.contains(&format!("<img src=\"{svg}\"")),
            "{svg} on the page"
        );
    }
    // PNGs for the curves (markdown, pull requests), none for system charts.
    assert!(dir.join("loss.png").is_file() && !dir.join("throughput.png").exists());
    let (curves, system) = page
        .split_once("<h2>System</h2>")
        .expect("a System section");
    assert!(curves.contains("id=\"chart-loss\"") && curves.contains("id=\"chart-grad_norm\""));
    assert!(!curves.contains("id=\"chart-throughput\""));
    assert!(system.contains("id=\"chart-throughput\""));
    assert!(curves.contains("smoothing 0.6"), "a smoothed chart says so");
    // A run without system metrics has no such heading.
    let base = site.join("runs/successful-2026-03-02-tinyllama-base/index.html");
    assert!(!fs::read_to_string(base)
        .unwrap()
        .contains("<h2>System</h2>"));
}

#[test]
fn hostile_names_and_values_are_escaped_everywhere() {
    let tmp = tempfile::tempdir().unwrap();
    let site = tmp.path().join("site");
    let hostile = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/hostile");
    build_with(&hostile, &site, &[]);
    let runs = runs_json(&site);
    assert_eq!(
        runs[0]["name"], "<script>alert(1)</script>",
        "the name is read as data"
    );
    let mut checked = 0;
    for (rel, bytes) in tree_bytes(&site) {
        if !(rel.ends_with(".html") || rel.ends_with(".md") || rel.ends_with(".svg")) {
            continue;
        }
        let text = String::from_utf8(bytes).unwrap();
        for raw in [
            "<script>alert",
            "<img src=x",
            "<b>bold</b>",
            "</script><script>",
        ] {
            assert!(!text.contains(raw), "{rel} contains raw {raw}");
        }
        assert!(
            !text.contains("49 tera"),
            "{rel}: a value was evaluated as a template"
        );
        checked += 1;
    }
    assert!(checked >= 3);
    let index = fs::read_to_string(site.join("index.html")).unwrap();
    assert!(
        index.contains("&lt;script&gt;alert(1)&lt;&#x2F;script&gt;"),
        "escaped name shown"
    );
    let md = fs::read_to_string(site.join("experiments.md")).unwrap();
    assert!(md.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
}

#[test]
fn two_builds_and_any_thread_count_give_identical_trees() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    build_with(&examples(), &a, &["--jobs", "1"]);
    build_with(&examples(), &b, &["--jobs", "4"]);
    let (ta, tb) = (tree_bytes(&a), tree_bytes(&b));
    assert_eq!(ta.keys().collect::<Vec<_>>(), tb.keys().collect::<Vec<_>>());
    for (rel, bytes) in &ta {
        assert!(bytes == &tb[rel], "{rel} differs between builds");
    }
}

#[test]
fn links_are_relative_and_nothing_is_fetched() {
    let tmp = tempfile::tempdir().unwrap();
    let site = tmp.path().join("site");
    build_with(&examples(), &site, &[]);
    for (rel, bytes) in tree_bytes(&site) {
        if rel.ends_with(".html") {
            let text = String::from_utf8(bytes).unwrap();
            for bad in [
                "src=\"/",
                "href=\"/",
                "src=\"http",
                "href=\"http",
                "url(http",
                "@import",
            ] {
                assert!(!text.contains(bad), "{rel} has {bad}");
            }
        }
    }
}

#[test]
fn check_reads_everything_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let out = runboard(&["check", examples().to_str().unwrap()]);
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("config.yaml:11"), "{stderr}");
    assert!(stderr.contains("Checked"), "{stderr}");
    assert!(fs::read_dir(tmp.path()).unwrap().next().is_none());
    let strict = runboard(&["check", examples().to_str().unwrap(), "--strict"]);
    assert_eq!(
        strict.status.code(),
        Some(2),
        "an error-level problem fails --strict"
    );
}

#[test]
fn exit_codes_for_fatal_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = runboard(&[
        "build",
        "/no/such/experiments",
        "--out",
        tmp.path().join("s").to_str().unwrap(),
    ]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("/no/such/experiments"));

    let templates = tmp.path().join("templates");
    fs::create_dir(&templates).unwrap();
    fs::write(templates.join("index.html"), "{% for %}").unwrap();
    let site = tmp.path().join("site");
    let (root, out, tpl) = (examples(), site.clone(), templates.clone());
    let bad = runboard(&[
        "build",
        root.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--templates",
        tpl.to_str().unwrap(),
    ]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("index.html"));
    assert!(!site.exists(), "a failed build writes nothing");

    let precious = tmp.path().join("precious");
    fs::create_dir(&precious).unwrap();
    fs::write(precious.join("thesis.tex"), "x").unwrap();
    let refused = runboard(&[
        "build",
        examples().to_str().unwrap(),
        "--out",
        precious.to_str().unwrap(),
    ]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(precious.join("thesis.tex").exists());

    let into_root = runboard(&[
        "build",
        examples().to_str().unwrap(),
        "--out",
        examples().to_str().unwrap(),
    ]);
    assert_eq!(
        into_root.status.code(),
        Some(1),
        "never replace ROOT itself"
    );
}

#[test]
fn an_empty_tree_gives_a_site_that_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("empty");
    fs::create_dir(&root).unwrap();
    let site = tmp.path().join("site");
    let out = build_with(&root, &site, &[]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("no runs found"));
    assert!(fs::read_to_string(site.join("index.html"))
        .unwrap()
        .contains("No runs were found"));
    assert_eq!(runs_json(&site).len(), 0);
}

#[test]
fn a_previous_site_survives_a_failed_build_and_is_replaced_by_a_good_one() {
    let tmp = tempfile::tempdir().unwrap();
    let site = tmp.path().join("site");
    build_with(&examples(), &site, &[]);
    let before = tree_bytes(&site);
    let templates = tmp.path().join("t");
    fs::create_dir(&templates).unwrap();
    fs::write(templates.join("run.html"), "{{ broken").unwrap();
    let failed = runboard(&[
        "build",
        examples().to_str().unwrap(),
        "--out",
        site.to_str().unwrap(),
        "--templates",
        templates.to_str().unwrap(),
    ]);
    assert_eq!(failed.status.code(), Some(1));
    assert_eq!(tree_bytes(&site), before, "the previous site is untouched");
    let mut leftovers: Vec<String> = fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name != "t")
        .collect();
    leftovers.sort();
    assert_eq!(
        leftovers,
        [".runboard-cache", "site"],
        "no temporary folders left behind, only the site and its cache"
    );
}

#[test]
fn output_inside_root_is_skipped_and_runs_in_it_are_not_read_twice() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("exp");
    fs::create_dir_all(root.join("r1")).unwrap();
    fs::write(
        root.join("r1/metrics.jsonl"),
        "{\"step\": 1, \"loss\": 2.0}\n{\"step\": 2, \"loss\": 1.0}\n",
    )
    .unwrap();
    let site = root.join("site");
    build_with(&root, &site, &[]);
    build_with(&root, &site, &[]);
    let runs = runs_json(&site);
    assert_eq!(runs.len(), 1, "the site inside ROOT is not read as input");
    assert_eq!(runs[0]["group"], "");
}

#[test]
fn formats_lists_every_reader_in_order() {
    let out = runboard(&["formats"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let mut last = 0;
    for format in runboard::load::FORMATS {
        let at = text
            .find(&format!("\n{}\n", format.name))
            .unwrap_or_else(|| panic!("{} not listed", format.name));
        assert!(at > last, "{} out of order", format.name);
        last = at;
    }
    assert!(text.contains("detects: trainer_state.json"));
}

/// `--group-by lr` groups runs by their learning rate, wherever it sits in their params.
#[test]
fn group_by_a_param_makes_its_values_the_groups() {
    let tmp = tempfile::tempdir().unwrap();
    let site = tmp.path().join("site");
    build_with(&examples(), &site, &["--group-by", "lr"]);
    let runs: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(site.join("data/runs.json")).unwrap()).unwrap();
    let group_of = |path: &str| {
        let run = runs
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["path"] == path)
            .unwrap();
        run["group"].as_str().unwrap().to_string()
    };
    assert_eq!(group_of("lr-sweep/lr-3e-4-seed1"), "lr=0.0003");
    assert_eq!(group_of("lr-sweep/lr-1e-4"), "lr=0.0001");
    let page = fs::read_to_string(site.join("groups/lr-0.0003/index.html")).unwrap();
    assert!(page.contains("<h1>lr=0.0003</h1>"));
    assert!(
        page.contains("3 seeds"),
        "the seeds of lr 3e-4 are a set in their new group"
    );
}
