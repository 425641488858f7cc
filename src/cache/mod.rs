//! The build cache: what a build reuses from the last one, so that a second
//! build with nothing or one run changed costs a fraction of the first.
//!
//! Entries are named by keys, XXH3-128 hashes of everything they depend on:
//! - `digests/<key>.json`: what reading and analyzing one candidate gave, as
//!   digests ([`crate::render::digest`]). Keyed by the content of the files
//!   the candidate reads, the listing of its folder (names, sizes, and the
//!   content of files up to [`HASHED_LISTING_BYTES`]), the tool and the thresholds.
//! - `charts/<key>/`: a group page's chart (SVG, PNG, height), keyed by all it shows.
//! - `runs/<key>/`: one run's folder of the site (page, charts, run.json,
//!   images), keyed by its digests' key, its place among them, its id, group
//!   and group page, the title, the templates and the chart options.
//!
//! Reading every file a build depends on to hash it was a fifth of a 1,000-run
//! build with nothing changed; [`file_hashes`] remembers each file's hash by
//! its `stat` so that an unchanged file is not read again.
//!
//! The tool is the running binary itself (its size and modification time),
//! so a rebuilt runboard never trusts what an older one wrote. The cache is only ever an
//! optimization: an entry that cannot be read is made anew, one that cannot be
//! written is skipped, and a build writes the same bytes with it or without it.
//! Run folders are hard-linked between the site and the cache when they share
//! a filesystem (copied otherwise): a site file edited in place would edit the
//! cache too, so such a site must be rebuilt with `--no-cache`. After a build,
//! entries it did not use are removed, so the cache holds one site's worth.

mod file_hashes;

pub use file_hashes::FileHashes;

use crate::analyze::Analyzed;
use crate::discover::Tree;
use crate::load::Candidate;
use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use xxhash_rust::xxh3::Xxh3;

/// Files of a run's folder (besides the ones it reads) hashed by content up to
/// this size; larger ones (checkpoints, weights) by name and size only.
pub const HASHED_LISTING_BYTES: u64 = 16 << 20;

/// The Cache Directory Tagging Specification's tag (bford.info/cachedir): backup tools skip the folder.
const CACHEDIR_TAG: &str = "Signature: 8a477f597d28d172789f06886806bc55\n\
# This file is a cache directory tag created by runboard.\n";

/// A cache key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Key(pub u128);

impl std::fmt::Display for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:032x}", self.0)
    }
}

/// Builds a key from what an entry depends on. Every part is written with
/// its length, so `("ab", "c")` and `("a", "bc")` differ.
pub struct KeyMaker(Xxh3);

impl KeyMaker {
    /// A key of the given kind (`digests`, `run`, `templates`).
    pub fn new(kind: &str) -> KeyMaker {
        let mut maker = KeyMaker(Xxh3::new());
        maker.text(kind);
        maker
    }

    pub fn bytes(&mut self, bytes: &[u8]) -> &mut KeyMaker {
        self.0.update(&(bytes.len() as u64).to_le_bytes());
        self.0.update(bytes);
        self
    }

    pub fn text(&mut self, text: &str) -> &mut KeyMaker {
        self.bytes(text.as_bytes())
    }

    pub fn number(&mut self, n: u64) -> &mut KeyMaker {
        self.bytes(&n.to_le_bytes())
    }

    /// A file's content, read in 64 KiB chunks; a file that cannot be read
    /// adds its error (reading it will fail the same way and say so).
    pub fn file(&mut self, path: &Path) -> &mut KeyMaker {
        self.file_via(path, None)
    }

    /// [`KeyMaker::file`], its hash taken from `memory` when it remembers the file as it is.
    pub fn file_via(&mut self, path: &Path, memory: Option<&FileHashes>) -> &mut KeyMaker {
        let hash = match memory {
            Some(memory) => memory.hash(path),
            None => fs::File::open(path).and_then(|mut f| file_hashes::hash_content(&mut f)),
        };
        match hash {
            Ok(hash) => self.number(1).bytes(&hash.to_le_bytes()),
            Err(e) => self.number(0).text(&e.to_string()),
        }
    }

    pub fn finish(&self) -> Key {
        Key(self.0.digest128())
    }
}

/// The running tool: its version, and the size and modification time of its
/// executable (computed once). A rebuilt binary has a new time, so it never
/// trusts what an older one wrote; hashing the executable's bytes instead
/// cost more than a whole cached build of twenty runs.
pub fn tool_fingerprint() -> u128 {
    static TOOL: OnceLock<u128> = OnceLock::new();
    *TOOL.get_or_init(|| {
        let mut key = KeyMaker::new("tool");
        key.text(env!("CARGO_PKG_VERSION"));
        let exe = std::env::current_exe().and_then(fs::metadata);
        match exe {
            Ok(meta) => {
                let modified = meta
                    .modified()
                    .ok()
                    .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                    .unwrap_or_default();
                key.number(meta.len())
                    .number(modified.as_secs())
                    .number(u64::from(modified.subsec_nanos()))
            }
            Err(e) => key.text(&e.to_string()),
        };
        key.finish().0
    })
}

/// The key of a candidate's digests: see the module documentation.
pub fn candidate_key(
    tree: &Tree,
    candidate: &Candidate,
    thresholds: &str,
    memory: Option<&FileHashes>,
) -> Key {
    let mut key = KeyMaker::new("digests");
    key.bytes(&tool_fingerprint().to_le_bytes())
        .text(thresholds);
    if candidate.dir.is_empty() {
        // A run at ROOT is named after ROOT's folder.
        let root_name = tree.root.file_name().unwrap_or_default();
        key.text(&root_name.to_string_lossy());
    }
    let mut read = BTreeSet::new();
    add_candidate(&mut key, candidate, &mut read, memory);
    add_listing(&mut key, tree, &candidate.dir, &read, memory);
    key.finish()
}

/// A candidate's format, folder and files (names, sizes, content), and its guests'.
fn add_candidate<'a>(
    key: &mut KeyMaker,
    c: &'a Candidate,
    read: &mut BTreeSet<&'a str>,
    memory: Option<&FileHashes>,
) {
    key.text(c.format.name)
        .text(&c.dir)
        .number(c.files.len() as u64);
    for file in &c.files {
        key.text(&file.rel)
            .number(file.size)
            .file_via(&file.real, memory);
        read.insert(&file.rel);
    }
    key.number(c.guests.len() as u64);
    for guest in &c.guests {
        add_candidate(key, guest, read, memory);
    }
}

/// Everything at or below folder `dir` (its artifacts and their sizes), by
/// name and size, and by content when small and not already hashed as read.
fn add_listing(
    key: &mut KeyMaker,
    tree: &Tree,
    dir: &str,
    read: &BTreeSet<&str>,
    memory: Option<&FileHashes>,
) {
    for (rel, folder) in tree.folders_below(dir) {
        key.text(rel).number(folder.subdirs.len() as u64);
        for name in &folder.subdirs {
            key.text(name);
        }
        key.number(folder.files.len() as u64);
        for file in &folder.files {
            key.text(&file.rel).number(file.size);
            if file.size <= HASHED_LISTING_BYTES && !read.contains(file.rel.as_str()) {
                key.file_via(&file.real, memory);
            }
        }
    }
}

/// The cache folder of one site, opened for a build.
pub struct Cache {
    dir: PathBuf,
    /// Entry names this build used or wrote; the rest are pruned after it.
    used: Mutex<BTreeSet<String>>,
    /// Numbers temporary entry names, which also carry the process id.
    temp: AtomicU64,
    /// Input files' hashes, remembered from the last build.
    pub file_hashes: FileHashes,
}

impl Cache {
    /// Open (creating it when missing) the cache at `dir`.
    pub fn open(dir: &Path) -> std::io::Result<Cache> {
        fs::create_dir_all(dir.join("digests"))?;
        fs::create_dir_all(dir.join("runs"))?;
        fs::create_dir_all(dir.join("charts"))?;
        // Like .pytest_cache: invisible to git, and marked as a cache for backup tools.
        for (name, text) in [
            (
                ".gitignore",
                "# The runboard build cache: safe to delete.\n*\n",
            ),
            ("CACHEDIR.TAG", CACHEDIR_TAG),
        ] {
            if !dir.join(name).exists() {
                fs::write(dir.join(name), text)?;
            }
        }
        Ok(Cache {
            dir: dir.to_path_buf(),
            used: Mutex::new(BTreeSet::new()),
            temp: AtomicU64::new(0),
            file_hashes: FileHashes::open(dir),
        })
    }

    fn mark_used(&self, name: String) {
        if let Ok(mut used) = self.used.lock() {
            used.insert(name);
        }
    }

    fn temp_path(&self, near: &str) -> PathBuf {
        let n = self.temp.fetch_add(1, Ordering::Relaxed);
        self.dir
            .join(format!("{near}.tmp-{}-{n}", std::process::id()))
    }

    /// The digests stored under `key`, if there are any and they read back.
    pub fn digests(&self, key: Key) -> Option<Vec<Analyzed>> {
        let name = format!("digests/{key}.json");
        let bytes = fs::read(self.dir.join(&name)).ok()?;
        let digests = serde_json::from_slice(&bytes).ok()?;
        self.mark_used(name);
        Some(digests)
    }

    /// Store `digests` under `key` (written aside, then renamed into place).
    pub fn put_digests(&self, key: Key, digests: &[Analyzed]) {
        let name = format!("digests/{key}.json");
        let Ok(json) = serde_json::to_vec(digests) else {
            return;
        };
        let temp = self.temp_path(&name);
        if fs::write(&temp, json).is_ok() && fs::rename(&temp, self.dir.join(&name)).is_ok() {
            self.mark_used(name);
        } else {
            let _ = fs::remove_file(&temp);
        }
    }

    /// Put the run folder stored under `key` at `dest` (which must not exist
    /// yet). False when there is none or it could not be put whole, in which
    /// case nothing is left at `dest`.
    pub fn restore_run(&self, key: Key, dest: &Path) -> bool {
        let name = format!("runs/{key}");
        let stored = self.dir.join(&name);
        if !stored.is_dir() {
            return false;
        }
        if link_tree(&stored, dest).is_err() {
            let _ = fs::remove_dir_all(dest);
            return false;
        }
        self.mark_used(name);
        true
    }

    /// Store the run folder `src` under `key`.
    pub fn store_run(&self, key: Key, src: &Path) {
        self.store_folder(format!("runs/{key}"), |temp| link_tree(src, temp));
    }

    /// Store the folder entry `name` unless it is there already: `fill` makes
    /// it aside, and it is renamed into place whole (or removed on failure).
    fn store_folder(&self, name: String, fill: impl FnOnce(&Path) -> std::io::Result<()>) {
        let target = self.dir.join(&name);
        if target.is_dir() {
            self.mark_used(name);
            return;
        }
        let temp = self.temp_path(&name);
        match fill(&temp).and_then(|()| fs::rename(&temp, &target)) {
            Ok(()) => self.mark_used(name),
            Err(_) => {
                let _ = fs::remove_dir_all(&temp);
            }
        }
    }

    /// Put the chart stored under `key` at `svg` and `png`; its height when it was there.
    pub fn restore_chart(&self, key: Key, svg: &Path, png: &Path) -> Option<u32> {
        let name = format!("charts/{key}");
        let stored = self.dir.join(&name);
        let height = fs::read_to_string(stored.join("height")).ok()?;
        let height = height.trim().parse().ok()?;
        for (file, dest) in [("chart.svg", svg), ("chart.png", png)] {
            if let Some(parent) = dest.parent() {
                fs::create_dir_all(parent).ok()?;
            }
            let from = stored.join(file);
            if fs::hard_link(&from, dest).is_err() && fs::copy(&from, dest).is_err() {
                return None;
            }
        }
        self.mark_used(name);
        Some(height)
    }

    /// Store a chart drawn at `svg` and `png`, `height` pixels high, under `key`.
    pub fn store_chart(&self, key: Key, svg: &Path, png: &Path, height: u32) {
        self.store_folder(format!("charts/{key}"), |temp| {
            fs::create_dir_all(temp)?;
            fs::write(temp.join("height"), height.to_string())?;
            link_or_copy(svg, &temp.join("chart.svg"))?;
            link_or_copy(png, &temp.join("chart.png"))
        });
    }

    /// Remove every entry this build did not use (and leftovers of killed
    /// builds), and keep the input files' hashes it used for the next build.
    pub fn prune(&self) {
        self.file_hashes.save();
        let Ok(used) = self.used.lock() else {
            return;
        };
        for kind in ["digests", "runs", "charts"] {
            let Ok(entries) = fs::read_dir(self.dir.join(kind)) else {
                continue;
            };
            for entry in entries.flatten() {
                let name = format!("{kind}/{}", entry.file_name().to_string_lossy());
                if used.contains(&name) {
                    continue;
                }
                let path = entry.path();
                let _ = match path.is_dir() {
                    true => fs::remove_dir_all(&path),
                    false => fs::remove_file(&path),
                };
            }
        }
    }
}

/// Make `dest` a copy of the folder `src`: files hard-linked, or copied
/// where linking is refused (another filesystem).
fn link_tree(src: &Path, dest: &Path) -> std::io::Result<()> {
    fs::create_dir_all(dest)?;
    for entry in fs::read_dir(src)? {
        let entry = entry?;
        let (from, to) = (entry.path(), dest.join(entry.file_name()));
        if entry.file_type()?.is_dir() {
            link_tree(&from, &to)?;
        } else {
            link_or_copy(&from, &to)?;
        }
    }
    Ok(())
}

/// Hard-link `from` at `to`, or copy it where linking is refused.
fn link_or_copy(from: &Path, to: &Path) -> std::io::Result<()> {
    if fs::hard_link(from, to).is_err() {
        fs::copy(from, to)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_separate_their_parts() {
        let key = |parts: &[&str]| {
            let mut k = KeyMaker::new("t");
            for p in parts {
                k.text(p);
            }
            k.finish()
        };
        assert_ne!(key(&["ab", "c"]), key(&["a", "bc"]));
        assert_eq!(key(&["ab", "c"]), key(&["ab", "c"]));
        assert_eq!(key(&["x"]).to_string().len(), 32);
    }

    #[test]
    fn a_chart_fingerprint_changes_with_anything_it_draws() {
        use crate::render::chart::{ChartLine, ChartSpec};
        let spec = ChartSpec {
            title: "Loss".into(),
            lines: vec![ChartLine {
                label: "a".into(),
                points: vec![(0.0, 1.0), (1.0, f64::NAN)],
                ..ChartLine::default()
            }],
            ..ChartSpec::default()
        };
        let key = |spec: &ChartSpec| {
            let mut key = KeyMaker::new("chart");
            spec.fingerprint(&mut key);
            key.finish()
        };
        assert_eq!(key(&spec), key(&spec.clone()));
        let mut moved = spec.clone();
        moved.lines[0].points[1].1 = f64::INFINITY;
        let mut faded = spec.clone();
        faded.lines[0].faded = true;
        let mut renamed = spec.clone();
        renamed.lines[0].label = "b".into();
        let mut logged = spec.clone();
        logged.x_log = true;
        for other in [moved, faded, renamed, logged] {
            assert_ne!(key(&spec), key(&other), "{other:?}");
        }
    }

    #[test]
    fn a_candidate_key_sees_files_below_it_past_a_sibling_folder() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        for dir in ["m/sub", "m-x"] {
            fs::create_dir_all(root.join(dir)).unwrap();
        }
        fs::write(root.join("m/metrics.jsonl"), "{\"step\": 1, \"loss\": 1}\n").unwrap();
        fs::write(root.join("m-x/other"), "x").unwrap();
        let key = || {
            let tree = crate::discover::walk(root, None).unwrap();
            let candidate = crate::load::find_candidates(&tree)
                .into_iter()
                .find(|c| c.dir == "m")
                .expect("m is a run");
            candidate_key(&tree, &candidate, "", None)
        };
        let before = key();
        fs::write(root.join("m/sub/sample.png"), "png").unwrap();
        assert_ne!(
            key(),
            before,
            "a file in m/sub, listed after m-x, is in m's key"
        );
    }

    #[test]
    fn a_file_key_follows_its_content() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("m.jsonl");
        let key = |path: &Path| KeyMaker::new("f").file(path).finish();
        fs::write(&path, "{\"loss\": 1}\n").unwrap();
        let first = key(&path);
        fs::write(&path, "{\"loss\": 2}\n").unwrap();
        assert_ne!(key(&path), first, "same size, other content");
        fs::write(&path, "{\"loss\": 1}\n").unwrap();
        assert_eq!(key(&path), first);
        assert_ne!(key(&tmp.path().join("missing")), first);
    }

    #[test]
    fn stored_run_folders_come_back_whole_and_unused_entries_are_pruned() {
        let tmp = tempfile::tempdir().unwrap();
        let site = tmp.path().join("site/runs/a");
        fs::create_dir_all(site.join("files")).unwrap();
        fs::write(site.join("index.html"), "page").unwrap();
        fs::write(site.join("files/0-x.png"), "png").unwrap();
        let cache = Cache::open(&tmp.path().join("cache")).unwrap();
        cache.store_run(Key(1), &site);
        cache.store_run(Key(2), &site);
        let back = tmp.path().join("again/runs/a");
        assert!(cache.restore_run(Key(1), &back));
        assert_eq!(fs::read(back.join("files/0-x.png")).unwrap(), b"png");
        assert!(!cache.restore_run(Key(3), &tmp.path().join("none")));
        assert!(!tmp.path().join("none").exists());
        let fresh = Cache::open(&tmp.path().join("cache")).unwrap();
        assert!(fresh.restore_run(Key(2), &tmp.path().join("b")));
        fresh.prune();
        assert!(!fresh.restore_run(Key(1), &tmp.path().join("c")), "pruned");
        assert!(fresh.restore_run(Key(2), &tmp.path().join("d")), "kept");
    }
}
