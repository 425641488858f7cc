//! Content hashes of input files, remembered from one build to the next by
//! what `stat` says of each file.
//!
//! A run's cache key hashes the content of every file it reads; at 1,000 runs
//! that is a gigabyte read again by a build in which nothing changed. As git's
//! index does, a hash is reused when the file's size, modification and
//! status-change times, inode and device are all what they were when it was
//! hashed. Any write moves the change time, and no tool can set it (`touch -d`
//! sets the modification time and moves the change time to now).
//!
//! File-system clocks are coarse (a few milliseconds on ext4), so a write in
//! the same tick as the hashing could leave every field as it was. A hash is
//! therefore remembered only when both times were at least [`SETTLED`] before
//! its reading began: a file written that recently is read again next time.
//! The key stays the content's hash either way, so the cache's entries and the
//! site are the same with this memory or without it.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use xxhash_rust::xxh3::Xxh3;

/// How long before its hashing a file must have last changed to be remembered.
const SETTLED: Duration = Duration::from_secs(2);

/// The file in the cache folder that holds the hashes.
const FILE_NAME: &str = "file-hashes.json";

#[cfg(test)]
thread_local! {
    /// Files this thread read to hash them, for tests.
    static FILES_READ: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// What `stat` says of a file, as far as its content is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct Stamp {
    size: u64,
    /// Modification and status-change times, in nanoseconds since 1970.
    modified_ns: i64,
    changed_ns: i64,
    inode: u64,
    device: u64,
}

impl Stamp {
    #[cfg(unix)]
    fn of(meta: &fs::Metadata) -> Option<Stamp> {
        use std::os::unix::fs::MetadataExt;
        let ns = |secs: i64, nanos: i64| secs.checked_mul(1_000_000_000)?.checked_add(nanos);
        Some(Stamp {
            size: meta.size(),
            modified_ns: ns(meta.mtime(), meta.mtime_nsec())?,
            changed_ns: ns(meta.ctime(), meta.ctime_nsec())?,
            inode: meta.ino(),
            device: meta.dev(),
        })
    }

    /// Without a change time and an inode nothing is remembered: every file is read.
    #[cfg(not(unix))]
    fn of(_meta: &fs::Metadata) -> Option<Stamp> {
        None
    }

    fn settled_by(&self, started: SystemTime, settled: Duration) -> bool {
        let Some(limit) = started
            .checked_sub(settled)
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .and_then(|d| i64::try_from(d.as_nanos()).ok())
        else {
            return false;
        };
        self.modified_ns < limit && self.changed_ns < limit
    }
}

#[derive(Serialize, Deserialize)]
struct Remembered {
    path: String,
    stamp: Stamp,
    hash: u128,
}

/// The hashes remembered by the last build, and those this build used.
pub struct FileHashes {
    file: PathBuf,
    known: HashMap<String, (Stamp, u128)>,
    used: Mutex<Vec<Remembered>>,
    settled: Duration,
}

impl FileHashes {
    /// The hashes the last build left in the cache folder `dir`; none when
    /// there are none or they do not read back.
    pub fn open(dir: &Path) -> FileHashes {
        FileHashes::open_settling(dir, SETTLED)
    }

    fn open_settling(dir: &Path, settled: Duration) -> FileHashes {
        let file = dir.join(FILE_NAME);
        let known = fs::read(&file)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<Vec<Remembered>>(&bytes).ok())
            .unwrap_or_default()
            .into_iter()
            .map(|r| (r.path, (r.stamp, r.hash)))
            .collect();
        FileHashes {
            file,
            known,
            used: Mutex::new(Vec::new()),
            settled,
        }
    }

    /// The XXH3-128 hash of the file at `path`'s content: remembered when
    /// `stat` finds it as it was, read otherwise.
    pub fn hash(&self, path: &Path) -> std::io::Result<u128> {
        let name = path.to_str();
        if let Some(name) = name {
            let stamp = fs::metadata(path).ok().as_ref().and_then(Stamp::of);
            if let (Some(stamp), Some(&(known, hash))) = (stamp, self.known.get(name)) {
                if stamp == known {
                    self.keep(name, stamp, hash);
                    return Ok(hash);
                }
            }
        }
        let started = SystemTime::now();
        let mut file = fs::File::open(path)?;
        let before = file.metadata().ok().as_ref().and_then(Stamp::of);
        let hash = hash_content(&mut file)?;
        let after = file.metadata().ok().as_ref().and_then(Stamp::of);
        if let (Some(name), Some(before)) = (name, before) {
            if after == Some(before) && before.settled_by(started, self.settled) {
                self.keep(name, before, hash);
            }
        }
        Ok(hash)
    }

    fn keep(&self, path: &str, stamp: Stamp, hash: u128) {
        if let Ok(mut used) = self.used.lock() {
            used.push(Remembered {
                path: path.to_string(),
                stamp,
                hash,
            });
        }
    }

    /// Write the hashes this build used for the next one (aside, then renamed
    /// into place); those of files it no longer reads are forgotten.
    pub fn save(&self) {
        let Ok(mut used) = self.used.lock() else {
            return;
        };
        used.sort_by(|a, b| a.path.cmp(&b.path));
        used.dedup_by(|a, b| a.path == b.path);
        let Ok(json) = serde_json::to_vec(&*used) else {
            return;
        };
        let temp = self
            .file
            .with_extension(format!("json.tmp-{}", std::process::id()));
        if fs::write(&temp, json).is_err() || fs::rename(&temp, &self.file).is_err() {
            let _ = fs::remove_file(&temp);
        }
    }
}

/// The XXH3-128 hash of a file's content, read in 64 KiB chunks.
pub fn hash_content(file: &mut fs::File) -> std::io::Result<u128> {
    #[cfg(test)]
    FILES_READ.with(|n| n.set(n.get() + 1));
    let mut hasher = Xxh3::new();
    let mut buf = [0u8; 64 << 10];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            return Ok(hasher.digest128());
        }
        hasher.update(&buf[..n]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reads(f: impl FnOnce()) -> usize {
        let before = FILES_READ.with(|n| n.get());
        f();
        FILES_READ.with(|n| n.get()) - before
    }

    fn content_hash(path: &Path) -> u128 {
        hash_content(&mut fs::File::open(path).unwrap()).unwrap()
    }

    #[test]
    fn a_settled_file_is_read_once_and_a_changed_one_again() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("metrics.jsonl");
        fs::write(&path, "{\"loss\": 1}\n").unwrap();
        // Past a few ticks of a coarse file-system clock, and no settling asked:
        // what a file untouched for SETTLED looks like to the real setting.
        std::thread::sleep(Duration::from_millis(30));
        let old = content_hash(&path);
        let first = FileHashes::open_settling(tmp.path(), Duration::ZERO);
        assert_eq!(reads(|| assert_eq!(first.hash(&path).unwrap(), old)), 1);
        first.save();

        let second = FileHashes::open_settling(tmp.path(), Duration::ZERO);
        assert_eq!(reads(|| assert_eq!(second.hash(&path).unwrap(), old)), 0);
        second.save();

        std::thread::sleep(Duration::from_millis(30));
        fs::write(&path, "{\"loss\": 2}\n").unwrap(); // same size, other content
        let third = FileHashes::open_settling(tmp.path(), Duration::ZERO);
        let mut hash = 0;
        assert_eq!(reads(|| hash = third.hash(&path).unwrap()), 1);
        assert_eq!(hash, content_hash(&path));
        assert_ne!(hash, old);
    }

    #[test]
    fn a_file_written_just_now_is_not_remembered() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("metrics.jsonl");
        fs::write(&path, "{\"loss\": 1}\n").unwrap();
        let first = FileHashes::open(tmp.path());
        first.hash(&path).unwrap();
        first.save();
        let second = FileHashes::open(tmp.path());
        assert_eq!(reads(|| assert!(second.hash(&path).is_ok())), 1);
    }

    #[test]
    fn unreadable_memory_and_missing_files() {
        let tmp = tempfile::tempdir().unwrap();
        fs::write(tmp.path().join(FILE_NAME), "{not json").unwrap();
        let hashes = FileHashes::open_settling(tmp.path(), Duration::ZERO);
        assert!(hashes.known.is_empty());
        assert!(hashes.hash(&tmp.path().join("missing")).is_err());
        hashes.save();
        let saved = fs::read_to_string(tmp.path().join(FILE_NAME)).unwrap();
        assert_eq!(saved, "[]", "rewritten with what this build used");
    }
}
