//! The build cache and the two-pass build: whatever is reused or drawn twice,
//! the site is byte-identical to a full build's.

mod common;

use common::{assert_same_trees, build_with, tree_bytes};
use std::fs;
use std::path::{Path, PathBuf};

/// Build `root` into `out` with `extra` flags; the summary line.
fn build(root: &Path, out: &Path, extra: &[&str]) -> String {
    let stderr = String::from_utf8(build_with(root, out, extra).stderr).unwrap();
    stderr.lines().last().unwrap_or_default().to_string()
}

/// Copy the folder `src` to `dst`.
fn copy_tree(src: &Path, dst: &Path) {
    for entry in walkdir::WalkDir::new(src) {
        let entry = entry.unwrap();
        let to = dst.join(entry.path().strip_prefix(src).unwrap());
        if entry.file_type().is_dir() {
            fs::create_dir_all(&to).unwrap();
        } else {
            fs::copy(entry.path(), &to).unwrap();
        }
    }
}

/// A copy of example_experiments to change.
fn examples_copy(into: &Path) -> PathBuf {
    copy_tree(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("example_experiments"),
        into,
    );
    into.to_path_buf()
}

/// The count in `; N unchanged, from the cache`, 0 without it.
fn reused(line: &str) -> usize {
    line.split("; ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .map_or(0, |n| n.parse().unwrap())
}

#[test]
fn a_cached_build_is_byte_identical_to_a_full_one_and_reuses_every_unchanged_run() {
    let tmp = tempfile::tempdir().unwrap();
    let root = examples_copy(&tmp.path().join("exp"));
    let (site, fresh) = (tmp.path().join("site"), tmp.path().join("fresh"));
    let first = build(&root, &site, &[]);
    assert_eq!(reused(&first), 0, "{first}");
    assert!(tmp.path().join(".runboard-cache/site/digests").is_dir());
    build(&root, &fresh, &["--no-cache"]);
    assert!(
        !tmp.path().join(".runboard-cache/fresh").exists(),
        "--no-cache writes none"
    );
    assert_same_trees(&site, &fresh, "first build with a cache");

    let second = build(&root, &site, &[]);
    let runs: usize = second.split(' ').nth(1).unwrap().parse().unwrap();
    assert!(runs >= 10, "{second}");
    assert_eq!(reused(&second), runs, "nothing changed: {second}");
    assert_same_trees(&site, &fresh, "second build, nothing changed");

    // One run changes: it alone is made anew, and the shared pages show it.
    let metrics = root.join("jsonl/2026-03-08_diverged/metrics.jsonl");
    let mut text = fs::read_to_string(&metrics).unwrap();
    text.push_str("{\"step\": 99999, \"train/loss\": 0.123}\n");
    fs::write(&metrics, text).unwrap();
    let third = build(&root, &site, &[]);
    assert_eq!(reused(&third), runs - 1, "{third}");
    build(&root, &fresh, &["--no-cache"]);
    assert_same_trees(&site, &fresh, "one run changed");
    let index = fs::read_to_string(site.join("data/runs.json")).unwrap();
    assert!(index.contains("99999"), "the shared pages are made anew");
}

#[test]
fn templates_title_and_thresholds_are_part_of_the_key() {
    let tmp = tempfile::tempdir().unwrap();
    let root = examples_copy(&tmp.path().join("exp"));
    let (site, fresh) = (tmp.path().join("site"), tmp.path().join("fresh"));
    build(&root, &site, &[]);
    let templates = tmp.path().join("templates");
    fs::create_dir(&templates).unwrap();
    let run_html = include_str!("../templates/run.html");
    let marked = run_html.replacen("{% block content %}", "{% block content %}<p>MARK</p>", 1);
    assert_ne!(marked, run_html, "the template has a content block to mark");
    fs::write(templates.join("run.html"), marked).unwrap();
    let t = templates.to_str().unwrap();
    for flags in [
        vec!["--templates", t],
        vec!["--title", "Other title"],
        vec!["--set", "overfit_gap_warning=0.01"],
        vec!["--smoothing", "0.9"],
    ] {
        let line = build(&root, &site, &flags);
        assert_eq!(reused(&line), 0, "{flags:?}: {line}");
        let pages = tree_bytes(&site.join("runs"));
        let marked = pages
            .values()
            .any(|b| String::from_utf8_lossy(b).contains("<p>MARK</p>"));
        assert_eq!(marked, flags[0] == "--templates", "{flags:?}");
        let mut no_cache = flags.clone();
        no_cache.push("--no-cache");
        build(&root, &fresh, &no_cache);
        assert_same_trees(&site, &fresh, &format!("{flags:?}"));
    }
}

#[test]
fn a_damaged_cache_is_rebuilt_not_trusted() {
    let tmp = tempfile::tempdir().unwrap();
    let root = examples_copy(&tmp.path().join("exp"));
    let (site, fresh) = (tmp.path().join("site"), tmp.path().join("fresh"));
    build(&root, &site, &[]);
    let cache = tmp.path().join(".runboard-cache/site");
    for entry in fs::read_dir(cache.join("digests")).unwrap() {
        fs::write(entry.unwrap().path(), "{ not json").unwrap();
    }
    for entry in fs::read_dir(cache.join("charts")).unwrap() {
        fs::remove_file(entry.unwrap().path().join("height")).unwrap();
    }
    build(&root, &site, &[]);
    build(&root, &fresh, &["--no-cache"]);
    assert_same_trees(&site, &fresh, "after the cache was damaged");
}

#[test]
fn folders_drawn_for_another_id_or_group_page_are_right_at_any_thread_count() {
    let tmp = tempfile::tempdir().unwrap();
    let root = examples_copy(&tmp.path().join("exp"));
    // `lr_sweep/lr-1e-3` slugs to the id and group page of `lr-sweep/lr-1e-3`,
    // which come first: its folder is drawn for them and must be drawn again.
    for run in ["lr-1e-3", "lr-1e-4"] {
        copy_tree(
            &root.join("lr-sweep").join(run),
            &root.join("lr_sweep").join(run),
        );
    }
    let one = tmp.path().join("one");
    build(&root, &one, &["--no-cache", "-j", "1"]);
    let page = |id: &str| fs::read_to_string(one.join("runs").join(id).join("index.html")).unwrap();
    let json = |id: &str| fs::read_to_string(one.join("runs").join(id).join("run.json")).unwrap();
    assert!(json("lr-sweep-lr-1e-3-2").contains(r#""path":"lr_sweep/lr-1e-3""#));
    assert!(json("lr-sweep-lr-1e-3-2").starts_with(r#"{"id":"lr-sweep-lr-1e-3-2","#));
    assert!(json("lr-sweep-lr-1e-3").contains(r#""path":"lr-sweep/lr-1e-3""#));
    assert!(page("lr-sweep-lr-1e-3-2").contains(r#"href="../../groups/lr-sweep-2/index.html""#));
    assert!(page("lr-sweep-lr-1e-3").contains(r#"href="../../groups/lr-sweep/index.html""#));
    // Alone in its group: drawn with a group link, placed without one.
    let lone = page("failed-2026-03-05-tinyllama-oom");
    assert!(
        lone.contains("<span>failed</span>"),
        "the group named, unlinked"
    );
    assert!(!lone.contains("groups/failed"), "no page to link to");
    assert!(!one.join(".drawn").exists() && !one.join("groups/failed").exists());
    let three = tmp.path().join("three");
    build(&root, &three, &["--no-cache", "-j", "3"]);
    assert_same_trees(&one, &three, "one thread against three");
    // From the cache, folders are not drawn at all; then the title changes
    // and every folder is drawn again from a second reading.
    let cached = tmp.path().join("cached");
    build(&root, &cached, &["-j", "2"]);
    build(&root, &cached, &["-j", "2"]);
    assert_same_trees(&one, &cached, "cached, two threads");
    build(&root, &cached, &["-j", "2", "--title", "Other"]);
    let fresh = tmp.path().join("fresh");
    build(&root, &fresh, &["--no-cache", "--title", "Other"]);
    assert_same_trees(&fresh, &cached, "drawn again from a second reading");
}
