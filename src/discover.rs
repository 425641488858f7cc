//! Walk ROOT once and describe what is there: every folder with its files.
//!
//! Nothing here decides what a run is (that is [`crate::load`], by content);
//! this module only guarantees what may be read at all: no hidden folders,
//! no `.git`, `__pycache__` or `node_modules`, not the output folder when it
//! sits inside ROOT, and never anything reached through a symlink that leaves
//! ROOT. The listing is sorted, so everything after it is deterministic.

use anyhow::{bail, Context, Result};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use walkdir::WalkDir;

/// Folder names that never hold runs and can be huge.
const SKIPPED_DIRS: &[&str] = &[
    ".git",
    "__pycache__",
    "node_modules",
    "target",
    ".venv",
    "venv",
];

/// Everything readable under ROOT, by folder.
#[derive(Debug, Default)]
pub struct Tree {
    /// ROOT, canonicalized.
    pub root: PathBuf,
    /// Folders by path relative to ROOT (`""` is ROOT itself), with `/` separators.
    pub dirs: BTreeMap<String, Folder>,
    /// Things seen but deliberately not read, with why (symlinks leaving ROOT, unreadable entries).
    pub skipped: Vec<String>,
}

/// One folder's direct contents.
#[derive(Debug, Default, Clone)]
pub struct Folder {
    /// Files directly in this folder, sorted by name.
    pub files: Vec<FileEntry>,
    /// Names of direct subfolders, sorted.
    pub subdirs: Vec<String>,
}

/// One readable file.
#[derive(Debug, Clone)]
pub struct FileEntry {
    /// File name.
    pub name: String,
    /// Path relative to ROOT, with `/` separators (how it is named in messages).
    pub rel: String,
    /// Where to open it: inside ROOT, symlinks already resolved and checked.
    pub real: PathBuf,
    /// Size in bytes.
    pub size: u64,
}

impl Tree {
    /// The folder at `rel`, if it was walked.
    pub fn folder(&self, rel: &str) -> Option<&Folder> {
        self.dirs.get(rel)
    }

    /// The folder `rel` and every folder below it, in path order. (Siblings
    /// such as `rel-x` sort between `rel` and `rel/a`, so they are skipped,
    /// not stopped at.)
    pub fn folders_below<'a>(
        &'a self,
        rel: &'a str,
    ) -> impl Iterator<Item = (&'a String, &'a Folder)> {
        let prefix = format!("{rel}/");
        self.dirs
            .range(rel.to_string()..)
            .take_while(move |(k, _)| k.starts_with(rel))
            .filter(move |(k, _)| k.as_str() == rel || k.starts_with(&prefix) || rel.is_empty())
    }

    /// Total bytes and number of files at or below the folder `rel`.
    pub fn folder_size(&self, rel: &str) -> (u64, u64) {
        self.folders_below(rel)
            .flat_map(|(_, f)| f.files.iter())
            .fold((0, 0), |(bytes, n), f| (bytes + f.size, n + 1))
    }
}

/// Walk `root`, skipping `out` if it lies inside it.
pub fn walk(root: &Path, out: Option<&Path>) -> Result<Tree> {
    if !root.exists() {
        bail!("ROOT {} does not exist", root.display());
    }
    if !root.is_dir() {
        bail!("ROOT {} is not a folder", root.display());
    }
    let root = root
        .canonicalize()
        .with_context(|| format!("cannot resolve ROOT {}", root.display()))?;
    let out = out.and_then(|o| absolute(o).ok());
    let mut tree = Tree {
        root: root.clone(),
        ..Tree::default()
    };
    tree.dirs.insert(String::new(), Folder::default());

    let walker = WalkDir::new(&root)
        .follow_links(false)
        .sort_by_file_name()
        .into_iter();
    let walker = walker.filter_entry(|e| {
        if e.depth() == 0 {
            return true;
        }
        let name = e.file_name().to_string_lossy();
        let is_dir = e.file_type().is_dir();
        if is_dir && (name.starts_with('.') || SKIPPED_DIRS.contains(&name.as_ref())) {
            return false;
        }
        if name.starts_with('.') {
            return false;
        }
        !(is_dir && out.as_deref().is_some_and(|o| e.path() == o))
    });
    let mut walker = walker;
    while let Some(entry) = walker.next() {
        let entry = match entry {
            Ok(e) => e,
            Err(err) => {
                let at = err.path().map(|p| rel_path(&root, p)).unwrap_or_default();
                tree.skipped.push(format!("{at}: cannot read: {err}"));
                continue;
            }
        };
        if entry.depth() == 0 {
            continue;
        }
        let rel = rel_path(&root, entry.path());
        if entry.file_name().to_str().is_none() {
            // Lossy names could merge two entries into one key; say so instead.
            tree.skipped
                .push(format!("{rel}: name is not valid UTF-8; not read"));
            if entry.file_type().is_dir() {
                walker.skip_current_dir();
            }
            continue;
        }
        let parent = rel
            .rsplit_once('/')
            .map(|(p, _)| p.to_string())
            .unwrap_or_default();
        let name = entry.file_name().to_string_lossy().into_owned();
        let file_type = entry.file_type();
        if file_type.is_dir() {
            tree.dirs.entry(parent).or_default().subdirs.push(name);
            tree.dirs.entry(rel).or_default();
        } else if file_type.is_file() {
            let size = entry.metadata().map(|m| m.len()).unwrap_or(0);
            let real = entry.path().to_path_buf();
            tree.dirs.entry(parent).or_default().files.push(FileEntry {
                name,
                rel,
                real,
                size,
            });
        } else if file_type.is_symlink() {
            match resolve_symlink(&root, entry.path()) {
                Ok((real, meta)) if meta.is_file() => {
                    let size = meta.len();
                    tree.dirs.entry(parent).or_default().files.push(FileEntry {
                        name,
                        rel,
                        real,
                        size,
                    });
                }
                Ok((_, meta)) if meta.is_dir() => tree.skipped.push(format!(
                    "{rel}: symlinked folder not followed (its target is read where it lives)"
                )),
                Ok(_) => tree.skipped.push(format!(
                    "{rel}: symlink to something that is not a regular file; not read"
                )),
                Err(why) => tree.skipped.push(format!("{rel}: {why}")),
            }
        } else {
            tree.skipped.push(format!(
                "{rel}: not a regular file (a FIFO, socket or device); not read"
            ));
        }
    }
    Ok(tree)
}

/// Resolve a symlink, refusing any target outside ROOT.
fn resolve_symlink(root: &Path, link: &Path) -> Result<(PathBuf, std::fs::Metadata), String> {
    let target = link
        .canonicalize()
        .map_err(|e| format!("broken symlink: {e}"))?;
    if !target.starts_with(root) {
        return Err("symlink points outside ROOT; not read".to_string());
    }
    let meta =
        std::fs::metadata(&target).map_err(|e| format!("cannot read symlink target: {e}"))?;
    Ok((target, meta))
}

/// `path` relative to `root` with `/` separators.
pub fn rel_path(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// An absolute, normalized form of a path that may not exist yet.
///
/// Every `..` is resolved here, before anything is created: `ghost/../w`
/// through a missing `ghost` must mean `w`, or a later check compares the
/// wrong path. Where a prefix exists it is canonicalized first, so `..` after
/// a symlink climbs from the symlink's target, as the OS would.
pub fn absolute(path: &Path) -> std::io::Result<PathBuf> {
    use std::path::Component;
    let abs = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()?.join(path)
    };
    let mut out = PathBuf::new();
    for component in abs.components() {
        match component {
            Component::Prefix(_) | Component::RootDir => out.push(component.as_os_str()),
            Component::CurDir => {}
            Component::ParentDir => {
                if let Ok(real) = out.canonicalize() {
                    out = real;
                }
                out.pop();
            }
            Component::Normal(name) => {
                out.push(name);
                if let Ok(real) = out.canonicalize() {
                    out = real;
                }
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn skips_hidden_output_and_vendor_folders() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        for d in ["a", ".hidden", "node_modules", "site", "a/__pycache__"] {
            fs::create_dir_all(root.join(d)).unwrap();
            fs::write(root.join(d).join("metrics.jsonl"), "{}\n").unwrap();
        }
        let tree = walk(root, Some(&root.join("site"))).unwrap();
        let dirs: Vec<&str> = tree.dirs.keys().map(|s| s.as_str()).collect();
        assert_eq!(dirs, vec!["", "a"]);
        assert_eq!(tree.dirs["a"].files[0].rel, "a/metrics.jsonl");
    }

    #[cfg(unix)]
    #[test]
    fn never_follows_a_symlink_out_of_root() {
        let outside = tempfile::tempdir().unwrap();
        fs::write(outside.path().join("secret.txt"), "secret").unwrap();
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        fs::create_dir(root.join("run")).unwrap();
        fs::write(root.join("run/real.log"), "x").unwrap();
        std::os::unix::fs::symlink(outside.path().join("secret.txt"), root.join("run/leak.log"))
            .unwrap();
        std::os::unix::fs::symlink(root.join("run/real.log"), root.join("run/inside.log")).unwrap();
        std::os::unix::fs::symlink(outside.path(), root.join("escape")).unwrap();
        let tree = walk(root, None).unwrap();
        let names: Vec<&str> = tree.dirs["run"]
            .files
            .iter()
            .map(|f| f.name.as_str())
            .collect();
        assert_eq!(names, vec!["inside.log", "real.log"]);
        assert!(!tree.dirs.contains_key("escape"));
        assert_eq!(tree.skipped.len(), 2, "{:?}", tree.skipped);
    }

    #[test]
    fn folder_size_counts_everything_below() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        fs::create_dir_all(root.join("m/sub")).unwrap();
        fs::create_dir_all(root.join("m2")).unwrap();
        fs::create_dir_all(root.join("m-x")).unwrap();
        fs::write(root.join("m-x/d"), "1").unwrap();
        fs::write(root.join("m/a"), "12345").unwrap();
        fs::write(root.join("m/sub/b"), "123").unwrap();
        fs::write(root.join("m2/c"), "1").unwrap();
        let tree = walk(root, None).unwrap();
        assert_eq!(tree.folder_size("m"), (8, 2));
        assert_eq!(tree.folder_size(""), (10, 4));
    }

    #[test]
    fn absolute_resolves_dotdot_through_missing_folders() {
        let tmp = tempfile::tempdir().unwrap();
        let base = tmp.path().canonicalize().unwrap();
        fs::create_dir(base.join("w")).unwrap();
        assert_eq!(absolute(&base.join("ghost/../w")).unwrap(), base.join("w"));
        assert_eq!(
            absolute(&base.join("w/./x/../../w/new")).unwrap(),
            base.join("w/new")
        );
        assert_eq!(
            absolute(&base.join("a/b/../../..")).unwrap(),
            base.parent().unwrap()
        );
    }

    #[test]
    fn missing_root_is_an_error_naming_it() {
        let err = walk(Path::new("/no/such/root"), None).unwrap_err();
        assert!(err.to_string().contains("/no/such/root"));
    }
}
