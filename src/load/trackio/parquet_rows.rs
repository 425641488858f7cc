//! Rows of a parquet file as JSON objects, for the experiments dataset that
//! the Hub stores as `data/train-*.parquet`.
//!
//! The parquet crate's record API reads row by row without Arrow (a much
//! smaller dependency); only snappy compression, the default of pyarrow and
//! of `datasets.push_to_hub`, is compiled in, so another codec is a clear
//! problem. The crate is not hardened against every malformed file, so the
//! decoding runs under `catch_unwind`: a hostile file is a problem, never a
//! crashed build.

use super::dataset::Row;
use parquet::file::reader::{FileReader, SerializedFileReader};
use serde_json::Value;

/// Every row of the file as a JSON object (columns by name), and why the
/// rest could not be read when decoding stopped early.
pub(super) fn rows_from_parquet(bytes: &[u8]) -> (Vec<Row>, Option<String>) {
    let data = bytes::Bytes::copy_from_slice(bytes);
    let mut rows = Vec::new();
    let decoded =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| decode(data, &mut rows)));
    let stopped = match decoded {
        Ok(result) => result.err(),
        Err(_) => Some("the parquet file is malformed (the decoder gave up)".to_string()),
    };
    let stopped = stopped.map(|why| format!("{why}; {} rows before it are read", rows.len()));
    (rows, stopped)
}

fn decode(data: bytes::Bytes, out: &mut Vec<Row>) -> Result<(), String> {
    let reader =
        SerializedFileReader::new(data).map_err(|e| format!("not a readable parquet file: {e}"))?;
    let rows = reader
        .get_row_iter(None)
        .map_err(|e| format!("cannot read the parquet rows: {e}"))?;
    for (index, row) in rows.enumerate() {
        let row = row.map_err(|e| format!("parquet row {}: {e}", index + 1))?;
        if let Value::Object(fields) = row.to_json_value() {
            out.push(Row { line: None, fields });
        }
    }
    Ok(())
}
