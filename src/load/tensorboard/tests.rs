//! The reader on bytes built here and on the real Keras files in tests/fixtures.

use super::event::{Event, Metadata, PluginData, Summary, Tensor, Value};
use super::record::frame;
use super::*;
use crate::model::{classify, Family, Severity, Split};
use prost::Message;

const REAL: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/realruns/tensorboard/10tanmay100__DEEPCNNCLASSIFIER/artifacts/",
    "prepare_callbacks/tensorboard_log_dir/tb_logs_at_2022-09-27-07-38-47/"
);

fn event(wall: f64, step: i64, values: Vec<Value>) -> Vec<u8> {
    frame(
        &Event {
            wall_time: wall,
            step,
            file_version: None,
            summary: Some(Summary { value: values }),
        }
        .encode_to_vec(),
    )
}

fn header(wall: f64) -> Vec<u8> {
    frame(
        &Event {
            wall_time: wall,
            file_version: Some(b"brain.Event:2".to_vec()),
            ..Event::default()
        }
        .encode_to_vec(),
    )
}

fn simple(tag: &str, v: f32) -> Value {
    Value {
        tag: tag.into(),
        simple_value: Some(v),
        ..Value::default()
    }
}

fn tensor(tag: &str, v: f32) -> Value {
    Value {
        tag: tag.into(),
        tensor: Some(Tensor {
            dtype: 1,
            tensor_content: v.to_le_bytes().to_vec(),
            ..Tensor::default()
        }),
        metadata: Some(Metadata {
            plugin_data: Some(PluginData {
                plugin_name: b"scalars".to_vec(),
            }),
        }),
        ..Value::default()
    }
}

fn source(rel: &str, bytes: &[u8]) -> SourceText {
    SourceText::from_bytes(rel, bytes.to_vec())
}

fn sample_file() -> Vec<u8> {
    let mut b = header(1000.0);
    b.extend(event(1001.0, 1, vec![simple("train/loss", 2.0)]));
    b.extend(event(1002.0, 2, vec![simple("train/loss", 1.5)]));
    b.extend(event(1002.0, 2, vec![tensor("eval/loss", 1.75)]));
    b
}

#[test]
fn reads_simple_values_and_tensors_with_times() {
    let run = Run::new("runs/a", "runs", "tensorboard");
    let runs = read_run(
        run,
        &[source("runs/a/events.out.tfevents.1.h", &sample_file())],
    );
    let run = &runs[0];
    assert!(run.problems.is_empty(), "{:?}", run.problems);
    let loss = run.metrics.iter().find(|s| s.name == "train/loss").unwrap();
    assert_eq!(loss.points.len(), 2);
    assert_eq!(loss.points[1].value, 1.5);
    assert_eq!(loss.points[1].wall_time, Some(2.0));
    let eval = run.metrics.iter().find(|s| s.name == "eval/loss").unwrap();
    assert_eq!((eval.family, eval.split), (Family::Loss, Split::Val));
    assert_eq!(run.duration_seconds, Some(2.0));
    assert_eq!(run.started.as_deref(), Some("1970-01-01T00:16:40.000Z"));
    assert_eq!(run.date.as_deref(), Some("1970-01-01"));
}

#[test]
fn names_split_folders_as_splits() {
    let run = Run::new("k", "", "tensorboard");
    let mut val = header(10.0);
    val.extend(event(20.0, 0, vec![tensor("epoch_loss", 0.5)]));
    let runs = read_run(
        run,
        &[
            source("k/train/events.out.tfevents.1.h.0.v2", &sample_file()),
            source("k/validation/events.out.tfevents.1.h.1.v2", &val),
        ],
    );
    let names: Vec<&str> = runs[0].metrics.iter().map(|s| s.name.as_str()).collect();
    assert!(names.contains(&"validation/epoch_loss"), "{names:?}");
    assert!(names.contains(&"train/train/loss"));
    assert_eq!(
        classify("validation/epoch_loss"),
        (Family::Loss, Split::Val)
    );
    assert_eq!(classify("train/epoch_loss"), (Family::Loss, Split::Train));
    // The validation file started first: times count from it.
    assert_eq!(runs[0].duration_seconds, Some(992.0));
}

#[test]
fn a_torn_tail_is_read_up_to_the_last_record() {
    let bytes = sample_file();
    let file = read_event_file(&bytes[..bytes.len() - 7], "e", "");
    assert!(file.torn);
    assert_eq!(file.readings.len(), 2);
    assert_eq!(file.problems.len(), 1);
    assert_eq!(file.problems[0].severity, Severity::Warning);
    assert!(file.problems[0].message.contains("incomplete"));
}

#[test]
fn a_bad_checksum_skips_one_record() {
    let mut bytes = sample_file();
    let second = header(1000.0).len() + 14;
    bytes[second] ^= 0x55;
    let file = read_event_file(&bytes, "e", "");
    assert_eq!(file.readings.len(), 2);
    assert!(file.problems[0].message.contains("checksum"));
}

#[test]
fn a_header_only_file_is_fine_and_an_lfs_pointer_is_reported() {
    let file = read_event_file(&header(5.0), "e", "");
    assert!(file.problems.is_empty() && file.readings.is_empty());
    assert_eq!(file.span, Some((5.0, 5.0)));
    let pointer = b"version https://git-lfs.github.com/spec/v1\noid sha256:ab\nsize 12\n";
    let file = read_event_file(pointer, "e", "");
    assert!(file.problems[0].message.contains("Git LFS pointer"));
}

#[test]
fn reads_the_real_keras_files() {
    let train = std::fs::read(format!(
        "{REAL}train/events.out.tfevents.1664264328.4ff9dfffae17.1360.0.v2"
    ))
    .unwrap();
    let file = read_event_file(&train, "t", "train");
    assert!(file.problems.is_empty(), "{:?}", file.problems);
    let loss: Vec<&Reading> = file
        .readings
        .iter()
        .filter(|r| file.names[r.name] == "train/epoch_loss")
        .collect();
    assert!(!loss.is_empty());
    assert!(loss.iter().all(|r| r.value.is_finite()));
}

#[test]
fn never_panics_on_mangled_files() {
    let mut inputs = vec![sample_file()];
    for name in [
        "train/events.out.tfevents.1664264328.4ff9dfffae17.1360.0.v2",
        "validation/events.out.tfevents.1664268182.4ff9dfffae17.1360.1.v2",
    ] {
        inputs.push(std::fs::read(format!("{REAL}{name}")).unwrap());
    }
    for bytes in inputs {
        let step = (bytes.len() / 300).max(1);
        for cut in (0..bytes.len()).step_by(step) {
            read_event_file(&bytes[..cut], "e", "p");
            let mut flipped = bytes.clone();
            flipped[cut] ^= 0xa5;
            read_event_file(&flipped, "e", "p");
            // A flip with a recomputed checksum reaches the protobuf decoder.
            let mut rest = &bytes[..];
            let mut rebuilt = Vec::new();
            let (records, _) = record::split_records(rest);
            for (i, r) in records.iter().enumerate() {
                let mut data = r.data.to_vec();
                if !data.is_empty() {
                    let at = (cut + i) % data.len();
                    data[at] ^= 0xff;
                }
                rebuilt.extend(frame(&data));
            }
            rest = &rebuilt;
            read_event_file(rest, "e", "p");
        }
    }
}
