//! TFRecord framing: how TensorBoard (and TensorFlow) writes one record after another.
//!
//! Each record is `u64 length`, `u32 masked CRC-32C of the length bytes`,
//! `length` bytes of data, `u32 masked CRC-32C of the data`, all little-endian.
//! A writer killed mid-record leaves a torn tail: everything up to the last
//! whole record is kept and the tail is reported. A bad data checksum loses
//! only that record; a bad length checksum means the framing can no longer be
//! trusted, so the rest of the file is left unread.

/// Bytes before a record's data: the length and its checksum.
const HEADER: usize = 12;
/// Bytes after a record's data: its checksum.
const FOOTER: usize = 4;

/// One whole record's data, with its 1-based number and byte offset for messages.
#[derive(Debug, Clone, PartialEq)]
pub struct Record<'a> {
    pub number: usize,
    pub offset: usize,
    pub data: &'a [u8],
}

/// Something wrong with the framing; `torn` marks an incomplete tail.
#[derive(Debug, Clone, PartialEq)]
pub struct FrameIssue {
    pub message: String,
    pub torn: bool,
}

/// TensorFlow's mask over a CRC-32C, so that a CRC of data holding CRCs stays useful.
pub fn masked_crc(data: &[u8]) -> u32 {
    let crc = crc32c::crc32c(data);
    crc.rotate_right(15).wrapping_add(0xa282_ead8)
}

/// Split `bytes` into whole, checksummed records, reporting what was skipped.
pub fn split_records(bytes: &[u8]) -> (Vec<Record<'_>>, Vec<FrameIssue>) {
    let mut records = Vec::new();
    let mut issues = Vec::new();
    let mut at = 0usize;
    let mut number = 0usize;
    while at < bytes.len() {
        number += 1;
        let rest = &bytes[at..];
        let torn = |what: &str| FrameIssue {
            message: format!(
                "incomplete last record {number} at byte {at} ({what}); the writer was probably \
                 stopped mid-write, so records up to {} were read",
                number - 1
            ),
            torn: true,
        };
        if rest.len() < HEADER {
            issues.push(torn("header cut short"));
            break;
        }
        let len_bytes = &rest[..8];
        let stored_len_crc = u32::from_le_bytes([rest[8], rest[9], rest[10], rest[11]]);
        if masked_crc(len_bytes) != stored_len_crc {
            issues.push(FrameIssue {
                message: format!(
                    "record {number} at byte {at}: length checksum mismatch; \
                     the rest of the file is not read"
                ),
                torn: false,
            });
            break;
        }
        let len = u64::from_le_bytes(len_bytes.try_into().unwrap_or([0; 8]));
        let available = (rest.len() - HEADER) as u64;
        if len > available || available - len < FOOTER as u64 {
            issues.push(torn("data cut short"));
            break;
        }
        let len = len as usize;
        let data = &rest[HEADER..HEADER + len];
        let crc_at = HEADER + len;
        let stored = u32::from_le_bytes([
            rest[crc_at],
            rest[crc_at + 1],
            rest[crc_at + 2],
            rest[crc_at + 3],
        ]);
        if masked_crc(data) == stored {
            records.push(Record {
                number,
                offset: at,
                data,
            });
        } else {
            issues.push(FrameIssue {
                message: format!("record {number} at byte {at}: data checksum mismatch; skipped"),
                torn: false,
            });
        }
        at += crc_at + FOOTER;
    }
    (records, issues)
}

/// Frame `data` as one record (for tests and fixtures).
#[cfg(test)]
pub fn frame(data: &[u8]) -> Vec<u8> {
    let len = (data.len() as u64).to_le_bytes();
    let mut out = len.to_vec();
    out.extend(masked_crc(&len).to_le_bytes());
    out.extend(data);
    out.extend(masked_crc(data).to_le_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_like_tensorflow() {
        assert_eq!(masked_crc(b""), 0xa282_ead8);
        let bytes = frame(b"hello");
        let (records, issues) = split_records(&bytes);
        assert_eq!(issues, vec![]);
        assert_eq!(records[0].data, b"hello");
    }

    #[test]
    fn reads_up_to_a_torn_tail() {
        let mut bytes = frame(b"one");
        bytes.extend(frame(b"two"));
        let whole = bytes.len();
        bytes.extend(&frame(b"three")[..10]);
        let (records, issues) = split_records(&bytes);
        assert_eq!(records.len(), 2);
        assert!(issues[0].torn && issues[0].message.contains("incomplete"));
        let (records, issues) = split_records(&bytes[..whole - 2]);
        assert_eq!((records.len(), issues.len()), (1, 1));
    }

    #[test]
    fn skips_a_record_with_a_bad_checksum() {
        let mut bytes = frame(b"one");
        bytes[13] ^= 0xff;
        bytes.extend(frame(b"two"));
        let (records, issues) = split_records(&bytes);
        assert_eq!(records.len(), 1);
        assert_eq!(records[0].data, b"two");
        assert!(!issues[0].torn && issues[0].message.contains("data checksum"));
    }

    #[test]
    fn stops_on_a_bad_length_checksum() {
        let mut bytes = frame(b"one");
        bytes[9] ^= 1;
        bytes.extend(frame(b"two"));
        let (records, issues) = split_records(&bytes);
        assert!(records.is_empty());
        assert!(issues[0].message.contains("length checksum"));
    }
}
