use super::*;
use crate::model::{EventKind, Family, Severity, Split, Status};
use rusqlite::Connection;

const DATASET: &str = "exp/trackio-experiments/data/train.jsonl";
const DATABASE: &str = "exp/trackio/smollm3.db";

fn base(dir: &str) -> Run {
    let group = dir.rsplit_once('/').map_or("", |(g, _)| g);
    Run::new(dir, group, "trackio")
}

fn read(rel: &str, text: &str) -> Vec<Run> {
    let dir = rel.rsplit_once('/').map_or("", |(d, _)| d);
    read_run(base(dir), &[SourceText::from_text(rel, text)])
}

fn read_bytes(rel: &str, bytes: Vec<u8>) -> Vec<Run> {
    let dir = rel.rsplit_once('/').map_or("", |(d, _)| d);
    read_run(base(dir), &[SourceText::from_bytes(rel, bytes)])
}

fn series<'a>(run: &'a Run, name: &str) -> &'a crate::model::Series {
    run.metrics
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no series {name} in {:?}", names(run)))
}

fn names(run: &Run) -> Vec<&str> {
    run.metrics.iter().map(|s| s.name.as_str()).collect()
}

/// A dataset row as Trackio writes it: JSON documents inside strings.
fn row(name: &str, status: &str, entries: &str) -> String {
    serde_json::json!({
        "experiment_id": format!("exp_{name}"),
        "name": name,
        "description": "SFT run",
        "created_at": "2026-03-01T10:00:00",
        "status": status,
        "metrics": entries,
        "parameters": "{\"learning_rate\": 0.0001, \"batch_size\": 8}",
        "artifacts": "[\"output/checkpoint-20\"]",
        "logs": "[{\"timestamp\": \"2026-03-01T10:00:30\", \"level\": \"ERROR\", \"message\": \"CUDA out of memory\"}]",
        "last_updated": "2026-03-01T10:05:00",
    })
    .to_string()
}

const ENTRIES: &str = r#"[{"timestamp": "2026-03-01T10:00:10", "step": 10, "metrics": {"loss": 2.0, "epoch": 0.5, "gpu_0_memory_allocated": 17.2}},
 {"timestamp": "2026-03-01T10:00:20", "step": 20, "metrics": {"loss": "NaN", "eval_loss": 2.2, "train/gate_ortho": 0.02}},
 {"timestamp": "2026-03-01T10:00:30", "step": 30, "loss": 1.5}]"#;

#[test]
fn reads_dataset_rows_with_embedded_json() {
    let text = format!(
        "{}\n{}\n",
        row("sft", "completed", ENTRIES),
        row("dpo", "failed", "[]")
    );
    let runs = read(DATASET, &text);
    assert_eq!(runs.len(), 2);
    let sft = &runs[0];
    assert_eq!(sft.name, "sft");
    assert_eq!(sft.path, format!("{DATASET}#sft"));
    assert_eq!(sft.group, "exp/trackio-experiments");
    assert_eq!(sft.format, "trackio");
    assert_eq!(sft.status, Status::Completed);
    assert_eq!(sft.started.as_deref(), Some("2026-03-01T10:00:00"));
    assert_eq!(sft.ended.as_deref(), Some("2026-03-01T10:05:00"));
    assert_eq!(sft.date.as_deref(), Some("2026-03-01"));
    let flat = sft.flat_params();
    assert_eq!(flat["learning_rate"], "0.0001");
    assert_eq!(flat["experiment_id"], "exp_sft");
    assert_eq!(flat["description"], "SFT run");
    assert!(flat.contains_key("artifacts"), "{flat:?}");
    // Nested entries and the older flat entry both give points; NaN is kept.
    let loss = series(sft, "loss");
    let steps: Vec<u64> = loss.points.iter().map(|p| p.step).collect();
    assert_eq!(steps, [10, 20, 30]);
    assert!(loss.points[1].value.is_nan());
    assert_eq!(loss.points[0].epoch, Some(0.5));
    assert_eq!(loss.points[0].wall_time, Some(10.0));
    assert_eq!((loss.family, loss.split), (Family::Loss, Split::Train));
    let eval = series(sft, "eval_loss");
    assert_eq!((eval.split, eval.points.len()), (Split::Val, 1));
    assert_eq!(series(sft, "gpu_0_memory_allocated").family, Family::Memory);
    assert!(
        !names(sft).contains(&"epoch"),
        "epoch is an axis, not a series"
    );
    assert!(sft.problems.is_empty(), "{:?}", sft.problems);
    let dpo = &runs[1];
    assert_eq!(dpo.status, Status::Failed);
    assert!(dpo.metrics.is_empty());
    assert!(dpo
        .events
        .iter()
        .any(|e| e.kind == EventKind::Error && e.message == "CUDA out of memory"));
}

#[test]
fn reads_a_json_array_export() {
    let text = format!(
        "[{}, {}]",
        row("a", "running", ENTRIES),
        row("b", "paused", "[]")
    );
    let runs = read("exp/data/train.json", &text);
    let got: Vec<(&str, Status)> = runs.iter().map(|r| (r.name.as_str(), r.status)).collect();
    assert_eq!(got, [("a", Status::Running), ("b", Status::Running)]);
    assert_eq!(runs[0].group, "exp");
    assert_eq!(series(&runs[0], "loss").points.len(), 3);
}

#[test]
fn torn_last_row_and_bad_columns_are_problems_with_lines() {
    let good = row("good", "completed", ENTRIES);
    let broken = row(
        "broken",
        "completed",
        "[{\"step\": 1, \"metrics\": {\"loss\": 1.0}",
    );
    let torn = &good[..good.len() / 2];
    let text = format!("{good}\n{broken}\n{torn}");
    let runs = read(DATASET, &text);
    assert_eq!(runs.len(), 2, "the torn row is not a run");
    assert_eq!(series(&runs[0], "loss").points.len(), 3);
    let torn_problem = runs[0]
        .problems
        .iter()
        .find(|p| p.line == Some(3))
        .expect("torn line reported on line 3");
    assert!(
        torn_problem.message.contains("incomplete"),
        "{torn_problem:?}"
    );
    let column = &runs[1].problems[0];
    assert_eq!((column.line, column.severity), (Some(2), Severity::Error));
    assert!(column.message.contains("\"metrics\" column"), "{column:?}");
}

#[test]
fn rows_with_one_name_keep_apart() {
    let text = format!(
        "{}\n{}\n",
        row("sft", "failed", "[]"),
        row("sft", "completed", "[]")
    );
    let runs = read(DATASET, &text);
    assert_eq!(runs[0].path, format!("{DATASET}#sft"));
    assert_eq!(runs[1].path, format!("{DATASET}#sft#2"));
}

#[test]
fn an_empty_dataset_is_a_run_with_a_note() {
    let runs = read(DATASET, "\n\n");
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].path, DATASET);
    assert!(runs[0].problems[0].message.contains("no experiment rows"));
}

#[test]
fn detects_rows_and_databases() {
    assert!(dataset::looks_like_rows(&row("x", "completed", "[]")));
    assert!(dataset::looks_like_rows(&format!(
        "\u{feff}[{}",
        row("x", "completed", "[]")
    )));
    assert!(!dataset::looks_like_rows("{\"step\": 1, \"loss\": 2.0}"));
    let db = new_schema_database();
    assert!(database::looks_like_database(&db[..db.len().min(8192)]));
    assert!(!database::looks_like_database(
        b"SQLite format 3\0 nothing else"
    ));
}

/// A database in Trackio's current schema: run ids, JSON as bytes, non-finite
/// values as strings, a system metrics table.
fn new_schema_database() -> Vec<u8> {
    let mut conn = Connection::open_in_memory().unwrap();
    conn.execute_batch(
        "CREATE TABLE metrics (id INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT NOT NULL,
             timestamp TEXT NOT NULL, run_name TEXT NOT NULL, step INTEGER NOT NULL, metrics TEXT NOT NULL);
         CREATE TABLE configs (id INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT NOT NULL,
             run_name TEXT NOT NULL, config TEXT NOT NULL, created_at TEXT NOT NULL, UNIQUE(run_id));
         CREATE TABLE system_metrics (id INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT NOT NULL,
             timestamp TEXT NOT NULL, run_name TEXT NOT NULL, metrics TEXT NOT NULL);",
    )
    .unwrap();
    let config = br#"{"learning_rate": 0.0003, "max_steps": 30, "_Username": "someone", "_Created": "2026-02-02T00:18:00", "_Group": null}"#;
    conn.execute(
        "INSERT INTO configs (run_id, run_name, config, created_at) VALUES ('a1', 'sft', ?1, '2026-02-02T00:18:00')",
        [&config[..]],
    )
    .unwrap();
    for (step, time, metrics) in [
        (
            10,
            "2026-02-02T00:18:10+00:00",
            &br#"{"train/loss":2.0,"train/learning_rate":0.0003}"#[..],
        ),
        (
            20,
            "2026-02-02T00:18:20+00:00",
            br#"{"train/loss":"NaN","eval/loss":"Infinity"}"#,
        ),
        (30, "2026-02-02T00:18:30+00:00", br#"{"train/loss":1.0}"#),
    ] {
        conn.execute(
            "INSERT INTO metrics (run_id, timestamp, run_name, step, metrics) VALUES ('a1', ?1, 'sft', ?2, ?3)",
            rusqlite::params![time, step, metrics],
        )
        .unwrap();
    }
    // A second run with the same name but another id is another run.
    conn.execute(
        "INSERT INTO metrics (run_id, timestamp, run_name, step, metrics) VALUES ('b2', '2026-02-03T00:00:00', 'sft', 5, '{\"train/loss\": 3.0}')",
        [],
    )
    .unwrap();
    conn.execute(
        "INSERT INTO system_metrics (run_id, timestamp, run_name, metrics) VALUES ('a1', '2026-02-02T00:18:25+00:00', 'sft', '{\"gpu/0/memory_allocated\": 17.5}')",
        [],
    )
    .unwrap();
    conn.serialize(rusqlite::MAIN_DB).unwrap().to_vec()
}

#[test]
fn reads_a_project_database() {
    let runs = read_bytes(DATABASE, new_schema_database());
    assert_eq!(runs.len(), 2, "run ids, not names, are the identity");
    let sft = &runs[0];
    assert_eq!(sft.format, "trackio_db");
    assert_eq!(sft.path, format!("{DATABASE}#sft"));
    assert_eq!(sft.group, "exp/trackio/smollm3");
    assert_eq!(sft.started.as_deref(), Some("2026-02-02T00:18:00"));
    let flat = sft.flat_params();
    assert_eq!(flat["learning_rate"], "0.0003");
    assert_eq!(flat["trackio.Username"], "someone");
    assert!(
        !flat.keys().any(|k| k.contains("Group")),
        "null reserved keys dropped: {flat:?}"
    );
    let loss = series(sft, "train/loss");
    let steps: Vec<u64> = loss.points.iter().map(|p| p.step).collect();
    assert_eq!(steps, [10, 20, 30]);
    assert!(loss.points[1].value.is_nan());
    assert_eq!(loss.points[2].wall_time, Some(30.0));
    let eval = series(sft, "eval/loss");
    assert_eq!(eval.split, Split::Val);
    assert_eq!(eval.points[0].value, f64::INFINITY);
    // The system reading at :25 belongs to step 20, the last step logged before it.
    let memory = series(sft, "gpu/0/memory_allocated");
    assert_eq!((memory.points[0].step, memory.family), (20, Family::Memory));
    assert!(sft.problems.is_empty(), "{:?}", sft.problems);
    // Both runs share a name, so the second path is kept apart by its position.
    assert_eq!(runs[1].name, "sft");
    assert_ne!(runs[1].path, runs[0].path);
    assert_eq!(series(&runs[1], "train/loss").points[0].step, 5);
}

#[test]
fn a_database_read_a_run_per_pass_gives_what_one_pass_gives() {
    let bytes = {
        let mut conn = Connection::open_in_memory().unwrap();
        let db = new_schema_database();
        conn.deserialize_read_exact(rusqlite::MAIN_DB, db.as_slice(), db.len(), false)
            .unwrap();
        // A third run, interleaved with the others, whose rows are garbage
        // but for one; and a fourth made only of garbage (no run at all).
        for (id, metrics) in [
            ("c3", "{not json"),
            ("a1", r#"{"train/loss": 0.5}"#),
            ("c3", r#"{"train/loss": 4.0, "img": "media"}"#),
            ("d4", "also not json"),
            ("b2", r#"{"train/loss": 2.5}"#),
        ] {
            conn.execute(
                "INSERT INTO metrics (run_id, timestamp, run_name, step, metrics) VALUES (?1, '2026-02-04T00:00:00', ?1, 40, ?2)",
                [id, metrics],
            )
            .unwrap();
        }
        conn.serialize(rusqlite::MAIN_DB).unwrap().to_vec()
    };
    let read = |batch_rows| {
        let source = SourceText::from_bytes(DATABASE, bytes.clone());
        RunSink::collect(|sink| {
            let mut out = FileRuns {
                sink,
                io: Vec::new(),
            };
            let opened = database::open(source.bytes());
            database::read_in_batches(
                &base("exp/trackio"),
                DATABASE,
                "smollm3.db",
                opened,
                false,
                &mut out,
                batch_rows,
            );
        })
    };
    let whole = read(usize::MAX);
    let names: Vec<&str> = whole.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["sft", "sft", "c3"], "d4 has no row that parses");
    assert!(whole[0].problems[0].message.contains("2 rows hold JSON"));
    for batch_rows in [0, 1, 3] {
        let batched = read(batch_rows);
        assert_eq!(
            serde_json::to_string(&batched).unwrap(),
            serde_json::to_string(&whole).unwrap(),
            "{batch_rows} rows a pass"
        );
    }
}

#[test]
fn older_databases_use_the_run_name() {
    let mut conn = Connection::open_in_memory().unwrap();
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         CREATE TABLE metrics (id INTEGER PRIMARY KEY AUTOINCREMENT, timestamp TEXT NOT NULL,
             run_name TEXT NOT NULL, step INTEGER NOT NULL, metrics TEXT NOT NULL);
         CREATE TABLE configs (id INTEGER PRIMARY KEY AUTOINCREMENT, run_name TEXT NOT NULL,
             config TEXT NOT NULL, created_at TEXT NOT NULL);
         INSERT INTO configs (run_name, config, created_at) VALUES ('b', '{\"lr\": 0.1}', '2026-01-01T00:00:00');
         INSERT INTO metrics (timestamp, run_name, step, metrics) VALUES ('2026-01-01T00:00:01', 'a', 1, '{\"loss\": 1.0}');
         INSERT INTO metrics (timestamp, run_name, step, metrics) VALUES ('2026-01-01T00:00:02', 'b', 1, '{\"loss\": 2.0}');
         INSERT INTO metrics (timestamp, run_name, step, metrics) VALUES ('2026-01-01T00:00:03', 'a', 2, 'not json');",
    )
    .unwrap();
    let mut bytes = conn.serialize(rusqlite::MAIN_DB).unwrap().to_vec();
    // What a WAL-mode file on disk says in its header.
    bytes[18] = 2;
    bytes[19] = 2;
    let runs = read_bytes("p/old.db", bytes);
    let got: Vec<(&str, usize)> = runs
        .iter()
        .map(|r| {
            (
                r.name.as_str(),
                r.metrics.first().map_or(0, |s| s.points.len()),
            )
        })
        .collect();
    assert_eq!(
        got,
        [("b", 1), ("a", 1)],
        "configs first, then metrics, by name"
    );
    assert_eq!(runs[0].flat_params()["lr"], "0.1");
    let bad = &runs[0].problems[0];
    assert!(
        bad.message.contains("1 rows hold JSON that does not parse"),
        "{bad:?}"
    );
    assert!(bad.message.contains("not json"));
    assert_eq!(bad.file, "p/old.db");
}

#[test]
fn a_write_ahead_log_beside_is_said() {
    let sources = [
        SourceText::from_bytes(DATABASE, new_schema_database()),
        SourceText::from_bytes(&format!("{DATABASE}-wal"), vec![1, 2, 3]),
    ];
    let runs = read_run(base("exp/trackio"), &sources);
    assert_eq!(runs.len(), 2, "the log is no run");
    assert!(runs[0].problems[0].message.contains("write-ahead log"));
}

#[test]
fn damaged_databases_are_problems_not_panics() {
    let good = new_schema_database();
    let mut cases: Vec<Vec<u8>> = vec![
        b"SQLite format 3\0".to_vec(),
        good[..good.len() / 2].to_vec(),
    ];
    let mut flipped = good.clone();
    for i in (100..flipped.len()).step_by(97) {
        flipped[i] ^= 0x5a;
    }
    cases.push(flipped);
    for bytes in cases {
        let runs = read_bytes(DATABASE, bytes);
        assert!(!runs.is_empty());
        let said = runs.iter().flat_map(|r| &r.problems).count();
        let read: usize = runs.iter().map(|r| r.metrics.len()).sum();
        assert!(
            said > 0 || read > 0,
            "a damaged file says something or reads something"
        );
    }
}

#[test]
fn reads_the_parquet_fixture() {
    let bytes = include_bytes!("../../../tests/fixtures/trackio/train-00000-of-00001.parquet");
    let runs = read_bytes(
        "hub/trackio-experiments/data/train-00000-of-00001.parquet",
        bytes.to_vec(),
    );
    let got: Vec<(&str, Status)> = runs.iter().map(|r| (r.name.as_str(), r.status)).collect();
    assert_eq!(
        got,
        [
            ("smollm3-sft", Status::Completed),
            ("smollm3-dpo", Status::Failed)
        ]
    );
    let loss = series(&runs[0], "loss");
    assert_eq!(loss.points.len(), 4);
    assert!(loss.points[2].value.is_nan());
    assert_eq!(series(&runs[0], "eval_loss").points.len(), 2);
    // The image reference is no number: noted, not charted.
    assert!(runs[1]
        .problems
        .iter()
        .any(|p| p.severity == Severity::Info && p.message.contains("not numbers")));
    assert_eq!(series(&runs[1], "loss").points.len(), 3);
    // Cut short, the file is a problem and never a panic.
    let runs = read_bytes(
        "hub/data/train.parquet",
        bytes[..bytes.len() - 200].to_vec(),
    );
    assert!(runs[0]
        .problems
        .iter()
        .any(|p| p.severity == Severity::Error));
}

#[test]
fn random_bytes_never_panic() {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    for len in [0usize, 4, 16, 100, 1000, 5000] {
        for magic in [&b"PAR1"[..], &b"SQLite format 3\0"[..], &b"{"[..]] {
            let mut bytes = magic.to_vec();
            for _ in 0..len {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                bytes.push(state as u8);
            }
            let runs = if magic == b"{" {
                read(DATASET, &String::from_utf8_lossy(&bytes))
            } else {
                read_bytes("x/data/train.parquet", bytes)
            };
            assert!(!runs.is_empty());
        }
    }
}
