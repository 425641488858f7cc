//! The workflows in docs/github-actions.md are valid YAML and call runboard
//! the way the README documents.

use serde_yaml_ng::Value;

fn workflows() -> Vec<Value> {
    let doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/docs/github-actions.md"
    ))
    .unwrap();
    doc.split("```yaml\n")
        .skip(1)
        .map(|rest| rest.split("\n```").next().unwrap())
        .map(|block| serde_yaml_ng::from_str(block).unwrap_or_else(|e| panic!("{e}\n{block}")))
        .collect()
}

/// Every `run:` command of every step of a workflow.
fn commands(workflow: &Value) -> Vec<String> {
    let jobs = workflow["jobs"].as_mapping().expect("jobs");
    jobs.values()
        .flat_map(|job| job["steps"].as_sequence().cloned().unwrap_or_default())
        .filter_map(|step| step["run"].as_str().map(str::to_string))
        .collect()
}

#[test]
fn both_workflows_parse_and_use_runboard() {
    let all = workflows();
    assert_eq!(all.len(), 2);
    let pages = commands(&all[0]).join("\n");
    assert!(
        pages.contains("runboard build \"$ROOT\" --out site"),
        "{pages}"
    );
    let uses: Vec<&str> = all[0]["jobs"]["deploy"]["steps"][0]["uses"]
        .as_str()
        .into_iter()
        .collect();
    assert_eq!(uses, ["actions/deploy-pages@v4"]);
    let summary = commands(&all[1]).join("\n");
    assert!(summary.contains("runboard summary \"$ROOT\""), "{summary}");
    let script = all[1]["jobs"]["summary"]["steps"][3]["with"]["script"]
        .as_str()
        .unwrap();
    assert!(
        script.contains(runboard::render::summary::MARKER),
        "updates the comment with the marker"
    );
    assert_eq!(
        all[1]["permissions"]["pull-requests"].as_str(),
        Some("write")
    );
}
