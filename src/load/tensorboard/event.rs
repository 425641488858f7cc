//! The `Event` protobuf of an event file, and the scalars it carries.
//!
//! Only the fields a run needs are declared (prost skips the others, such as
//! `graph_def`, images and histograms). Scalars come in two shapes: TF1 and
//! PyTorch's `SummaryWriter` write `simple_value`; TF2 (`tf.summary.scalar`,
//! Keras) writes a 0-d `tensor` whose metadata names the `scalars` plugin,
//! its number either in a typed repeated field or as little-endian
//! `tensor_content`. Strings are read as bytes so a non-UTF-8 tag cannot make a
//! whole record undecodable.

use prost::Message;

/// `tensorflow.Event`: one record of an event file.
#[derive(Clone, PartialEq, Message)]
pub struct Event {
    #[prost(double, tag = "1")]
    pub wall_time: f64,
    #[prost(int64, tag = "2")]
    pub step: i64,
    /// `brain.Event:2` in the first record of a file.
    #[prost(bytes = "vec", optional, tag = "3")]
    pub file_version: Option<Vec<u8>>,
    #[prost(message, optional, tag = "5")]
    pub summary: Option<Summary>,
}

/// `tensorflow.Summary`.
#[derive(Clone, PartialEq, Message)]
pub struct Summary {
    #[prost(message, repeated, tag = "1")]
    pub value: Vec<Value>,
}

/// `tensorflow.Summary.Value`: one tagged value.
#[derive(Clone, PartialEq, Message)]
pub struct Value {
    #[prost(bytes = "vec", tag = "1")]
    pub tag: Vec<u8>,
    #[prost(float, optional, tag = "2")]
    pub simple_value: Option<f32>,
    #[prost(message, optional, tag = "8")]
    pub tensor: Option<Tensor>,
    #[prost(message, optional, tag = "9")]
    pub metadata: Option<Metadata>,
}

/// `tensorflow.SummaryMetadata`.
#[derive(Clone, PartialEq, Message)]
pub struct Metadata {
    #[prost(message, optional, tag = "1")]
    pub plugin_data: Option<PluginData>,
}

/// `tensorflow.SummaryMetadata.PluginData`.
#[derive(Clone, PartialEq, Message)]
pub struct PluginData {
    #[prost(bytes = "vec", tag = "1")]
    pub plugin_name: Vec<u8>,
}

/// `tensorflow.TensorProto`, numeric parts only.
#[derive(Clone, PartialEq, Message)]
pub struct Tensor {
    #[prost(int32, tag = "1")]
    pub dtype: i32,
    #[prost(bytes = "vec", tag = "4")]
    pub tensor_content: Vec<u8>,
    #[prost(float, repeated, tag = "5")]
    pub float_val: Vec<f32>,
    #[prost(double, repeated, tag = "6")]
    pub double_val: Vec<f64>,
    #[prost(int32, repeated, tag = "7")]
    pub int_val: Vec<i32>,
    #[prost(int64, repeated, tag = "10")]
    pub int64_val: Vec<i64>,
    #[prost(int32, repeated, tag = "13")]
    pub half_val: Vec<i32>,
}

// `tensorflow.DataType` values that can hold a scalar metric.
const DT_FLOAT: i32 = 1;
const DT_DOUBLE: i32 = 2;
const DT_INT32: i32 = 3;
const DT_INT64: i32 = 9;
const DT_BFLOAT16: i32 = 14;
const DT_HALF: i32 = 19;

/// Decode one record's data.
pub fn decode(data: &[u8]) -> Result<Event, String> {
    Event::decode(data).map_err(|e| e.to_string())
}

/// What one summary value holds, as far as a run is concerned. The tag is
/// the event's own bytes: a file of thousands of events has a handful of
/// tags, and the reader names each once.
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar<'a> {
    /// A number under this tag.
    Number(&'a [u8], f64),
    /// A `scalars` tensor whose number could not be read.
    Unreadable(&'a [u8], String),
}

/// The scalars of an event, in the order written; other plugins are skipped.
pub fn scalars(event: &Event) -> impl Iterator<Item = Scalar<'_>> {
    event
        .summary
        .iter()
        .flat_map(|summary| &summary.value)
        .filter_map(scalar)
}

fn scalar(value: &Value) -> Option<Scalar<'_>> {
    let tag = value.tag.as_slice();
    if let Some(v) = value.simple_value {
        return Some(Scalar::Number(tag, f64::from(v)));
    }
    let plugin = value
        .metadata
        .as_ref()
        .and_then(|m| m.plugin_data.as_ref())
        .map(|p| p.plugin_name.as_slice());
    if plugin != Some(b"scalars".as_slice()) {
        return None;
    }
    let Some(tensor) = &value.tensor else {
        return Some(Scalar::Unreadable(tag, "no tensor".into()));
    };
    Some(match tensor_number(tensor) {
        Some(v) => Scalar::Number(tag, v),
        None => Scalar::Unreadable(
            tag,
            format!("no number in a tensor of dtype {}", tensor.dtype),
        ),
    })
}

/// The first number of a numeric tensor, typed field first, then raw content.
pub fn tensor_number(t: &Tensor) -> Option<f64> {
    let raw = |n: usize| t.tensor_content.get(..n);
    match t.dtype {
        DT_FLOAT => t
            .float_val
            .first()
            .map(|&v| f64::from(v))
            .or_else(|| raw(4).map(|b| f64::from(f32::from_le_bytes([b[0], b[1], b[2], b[3]])))),
        DT_DOUBLE => t
            .double_val
            .first()
            .copied()
            .or_else(|| raw(8).and_then(|b| b.try_into().ok().map(f64::from_le_bytes))),
        DT_INT32 => t
            .int_val
            .first()
            .map(|&v| f64::from(v))
            .or_else(|| raw(4).map(|b| f64::from(i32::from_le_bytes([b[0], b[1], b[2], b[3]])))),
        DT_INT64 => t.int64_val.first().map(|&v| v as f64).or_else(|| {
            raw(8).and_then(|b| b.try_into().ok().map(|a| i64::from_le_bytes(a) as f64))
        }),
        DT_HALF => t
            .half_val
            .first()
            .map(|&v| v as u16)
            .or_else(|| raw(2).map(|b| u16::from_le_bytes([b[0], b[1]])))
            .map(f64_from_half),
        DT_BFLOAT16 => t
            .half_val
            .first()
            .map(|&v| v as u16)
            .or_else(|| raw(2).map(|b| u16::from_le_bytes([b[0], b[1]])))
            .map(|bits| f64::from(f32::from_bits(u32::from(bits) << 16))),
        _ => None,
    }
}

/// IEEE 754 half precision bits to a number (subnormals, infinities and NaN kept).
fn f64_from_half(bits: u16) -> f64 {
    let sign = if bits & 0x8000 != 0 { -1.0 } else { 1.0 };
    let exp = i32::from((bits >> 10) & 0x1f);
    let frac = f64::from(bits & 0x3ff);
    sign * match exp {
        0 => frac * 2f64.powi(-24),
        31 if frac == 0.0 => f64::INFINITY,
        31 => f64::NAN,
        _ => (1.0 + frac / 1024.0) * 2f64.powi(exp - 15),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tensor_value(tag: &str, plugin: &str, tensor: Tensor) -> Value {
        Value {
            tag: tag.into(),
            simple_value: None,
            tensor: Some(tensor),
            metadata: Some(Metadata {
                plugin_data: Some(PluginData {
                    plugin_name: plugin.into(),
                }),
            }),
        }
    }

    fn event_with(values: Vec<Value>) -> Event {
        let bytes = Event {
            wall_time: 1.5,
            step: 3,
            file_version: None,
            summary: Some(Summary { value: values }),
        }
        .encode_to_vec();
        decode(&bytes).unwrap()
    }

    #[test]
    fn reads_simple_values_and_scalar_tensors() {
        let content = Tensor {
            dtype: DT_FLOAT,
            tensor_content: 0.25f32.to_le_bytes().to_vec(),
            ..Tensor::default()
        };
        let typed = Tensor {
            dtype: DT_DOUBLE,
            double_val: vec![2.5],
            ..Tensor::default()
        };
        let simple = Value {
            tag: b"loss".to_vec(),
            simple_value: Some(f32::NAN),
            ..Value::default()
        };
        let event = event_with(vec![
            simple,
            tensor_value("epoch_loss", "scalars", content),
            tensor_value("lr", "scalars", typed),
            tensor_value("keras", "graph_keras_model", Tensor::default()),
        ]);
        let got: Vec<Scalar> = scalars(&event).collect();
        assert_eq!(got.len(), 3);
        assert!(matches!(&got[0], Scalar::Number(t, v) if *t == b"loss" && v.is_nan()));
        assert_eq!(got[1], Scalar::Number(b"epoch_loss", 0.25));
        assert_eq!(got[2], Scalar::Number(b"lr", 2.5));
    }

    #[test]
    fn reports_a_scalars_tensor_without_a_number() {
        let event = event_with(vec![tensor_value(
            "x",
            "scalars",
            Tensor {
                dtype: 7,
                ..Tensor::default()
            },
        )]);
        let got: Vec<Scalar> = scalars(&event).collect();
        assert!(matches!(&got[..], [Scalar::Unreadable(t, _)] if *t == b"x"));
    }

    #[test]
    fn reads_half_precision() {
        assert_eq!(f64_from_half(0x3c00), 1.0);
        assert_eq!(f64_from_half(0xc000), -2.0);
        assert!(f64_from_half(0x7e00).is_nan());
        let t = Tensor {
            dtype: DT_HALF,
            half_val: vec![0x3800],
            ..Tensor::default()
        };
        assert_eq!(tensor_number(&t), Some(0.5));
    }
}
