//! The progress bar stays off a stderr that is not a terminal (CI logs, pipes),
//! and a build still ends with its one summary line.

mod common;

use common::runboard_ok;
use std::path::Path;

fn examples() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("example_experiments")
        .to_string_lossy()
        .into_owned()
}

/// No terminal control at all: no escape sequences, no carriage returns, no spinner frames.
fn assert_no_bar(stderr: &str) {
    assert!(
        !stderr.contains('\x1b'),
        "escape codes on stderr:\n{stderr}"
    );
    assert!(
        !stderr.contains('\r'),
        "carriage return on stderr:\n{stderr}"
    );
    assert!(
        !stderr.contains("finding runs") && !stderr.contains("rendering"),
        "progress text on stderr:\n{stderr}"
    );
}

/// `Built N runs (M with problems) into OUT/ in S.Ss`, as its parts.
fn parse_built(line: &str) -> (usize, usize, String, f64) {
    let rest = line.strip_prefix("Built ").expect("starts with Built");
    let (runs, rest) = rest.split_once(" runs (").expect("runs count");
    let (problems, rest) = rest.split_once(" with problems) into ").expect("problems");
    let (out, seconds) = rest.rsplit_once(" in ").expect("time");
    let seconds = seconds.strip_suffix('s').expect("seconds");
    assert!(
        seconds.split_once('.').is_some_and(|(_, d)| d.len() == 1),
        "one decimal: {line}"
    );
    (
        runs.parse().unwrap(),
        problems.parse().unwrap(),
        out.to_string(),
        seconds.parse().unwrap(),
    )
}

#[test]
fn a_piped_build_has_no_progress_bar_and_ends_with_the_summary_line() {
    let tmp = tempfile::tempdir().unwrap();
    let site = tmp.path().join("site");
    let output = runboard_ok(&["build", &examples(), "--out", site.to_str().unwrap()]);
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_no_bar(&stderr);
    let last = stderr.lines().last().expect("a summary line");
    let (runs, problems, out, seconds) = parse_built(last);
    assert!(runs > 1 && problems <= runs, "{last}");
    assert_eq!(out, format!("{}/", site.display()));
    assert!(seconds >= 0.0);
    let json = std::fs::read_to_string(site.join("data/runs.json")).unwrap();
    let listed: Vec<serde_json::Value> = serde_json::from_str(&json).unwrap();
    assert_eq!(listed.len(), runs, "the line counts every run");
}

#[test]
fn quiet_builds_and_checks_print_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let site = tmp.path().join("site");
    let built = runboard_ok(&[
        "build",
        &examples(),
        "-o",
        site.to_str().unwrap(),
        "--quiet",
    ]);
    assert_eq!(String::from_utf8_lossy(&built.stderr), "");
    let checked = runboard_ok(&["check", &examples(), "--quiet"]);
    assert_eq!(String::from_utf8_lossy(&checked.stderr), "");
}

#[test]
fn a_piped_check_has_no_progress_bar() {
    let output = runboard_ok(&["check", &examples()]);
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_no_bar(&stderr);
    assert!(
        stderr.lines().last().unwrap().starts_with("Checked "),
        "{stderr}"
    );
}
