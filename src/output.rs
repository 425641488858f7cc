//! Writing the site: all of it or none of it.
//!
//! Everything is written into a hidden temporary folder beside `--out`; only
//! when every file is written is it swapped into place (the old site is moved
//! aside, the new one renamed in, the old one removed). A failed build drops
//! the temporary folder and leaves the previous site untouched. Every IO error
//! names the path it concerns.

use anyhow::{bail, Context, Result};
use std::fs;
use std::path::{Path, PathBuf};

/// A site being written.
pub struct Staging {
    /// Where the finished site goes.
    out: PathBuf,
    /// Where it is written meanwhile.
    tmp: PathBuf,
    committed: bool,
}

/// The file that marks a folder as a runboard site, safe to replace. Only
/// runboard writes it: a `data/runs.json` alone could be anybody's.
pub const MARKER: &str = ".runboard-site";
const MARKER_TEXT: &[u8] =
    b"This folder was written by runboard build; the next build replaces it whole.\n";

impl Staging {
    /// Prepare to write a site to `out`, refusing to replace a folder that is not one of ours.
    pub fn new(out: &Path) -> Result<Staging> {
        let out = &crate::discover::absolute(out)
            .with_context(|| format!("cannot resolve {}", out.display()))?;
        let name = out
            .file_name()
            .with_context(|| format!("output path {} has no folder name", out.display()))?
            .to_string_lossy()
            .into_owned();
        let parent = match out.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        if out.exists() {
            if !out.is_dir() {
                bail!("output path {} exists and is not a folder", out.display());
            }
            let empty = fs::read_dir(out)
                .map(|mut d| d.next().is_none())
                .unwrap_or(false);
            if !empty && !out.join(MARKER).is_file() {
                bail!(
                    "output folder {} exists and is not a runboard site (no {MARKER} in it); refusing to replace it",
                    out.display()
                );
            }
        }
        fs::create_dir_all(&parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
        let tmp = parent.join(format!(".{name}.runboard-tmp-{}", std::process::id()));
        if tmp.exists() {
            fs::remove_dir_all(&tmp).with_context(|| format!("cannot clear {}", tmp.display()))?;
        }
        fs::create_dir(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
        let staging = Staging {
            out: out.to_path_buf(),
            tmp,
            committed: false,
        };
        staging.write(MARKER, MARKER_TEXT)?;
        Ok(staging)
    }

    /// Write `bytes` to `rel` (a `/`-separated path inside the site).
    pub fn write(&self, rel: &str, bytes: &[u8]) -> Result<()> {
        let path = self.path_of(rel)?;
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        fs::write(&path, bytes).with_context(|| format!("cannot write {}", path.display()))
    }

    /// Write a file at `rel` through `fill`, buffered, without holding it whole
    /// in memory (a 10M-point run's run.json is over a gigabyte as text).
    /// The writer's type is named, not `dyn Write`, so a serializer's many
    /// small writes are inlined copies into the buffer, not calls.
    pub fn write_with(
        &self,
        rel: &str,
        fill: impl FnOnce(&mut std::io::BufWriter<fs::File>) -> std::io::Result<()>,
    ) -> Result<()> {
        let path = self.path_of(rel)?;
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        let file =
            fs::File::create(&path).with_context(|| format!("cannot write {}", path.display()))?;
        let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
        fill(&mut out)
            .and_then(|()| std::io::Write::flush(&mut out))
            .with_context(|| format!("cannot write {}", path.display()))
    }

    /// Copy a file from the input tree into the site at `rel`.
    pub fn copy(&self, from: &Path, rel: &str) -> Result<()> {
        let path = self.path_of(rel)?;
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        fs::copy(from, &path)
            .with_context(|| format!("cannot copy {} to {}", from.display(), path.display()))?;
        Ok(())
    }

    /// Where the folder `rel` of the site is being written (the build cache copies run folders in and out).
    pub fn folder(&self, rel: &str) -> Result<PathBuf> {
        self.path_of(rel)
    }

    fn path_of(&self, rel: &str) -> Result<PathBuf> {
        // Site paths are made by us from slugs, but never let one climb out of the site.
        if rel.split('/').any(|part| part == ".." || part.is_empty()) || rel.starts_with('/') {
            bail!("refusing to write outside the site: {rel}");
        }
        Ok(self.tmp.join(rel))
    }

    /// Swap the finished site into place.
    pub fn commit(mut self) -> Result<()> {
        let old = self.out.with_file_name(format!(
            ".{}.runboard-old-{}",
            self.out.file_name().unwrap_or_default().to_string_lossy(),
            std::process::id()
        ));
        if self.out.exists() {
            fs::rename(&self.out, &old).with_context(|| {
                format!("cannot move the previous site {} aside", self.out.display())
            })?;
        }
        if let Err(e) = fs::rename(&self.tmp, &self.out) {
            // Put the previous site back so a failed swap loses nothing.
            let _ = fs::rename(&old, &self.out);
            return Err(e)
                .with_context(|| format!("cannot move the new site into {}", self.out.display()));
        }
        self.committed = true;
        if old.exists() {
            fs::remove_dir_all(&old)
                .with_context(|| format!("cannot remove the previous site {}", old.display()))?;
        }
        Ok(())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_dir_all(&self.tmp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dropped_staging_leaves_the_previous_site_untouched() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("site");
        let first = Staging::new(&out).unwrap();
        first.write("data/runs.json", b"[1]").unwrap();
        first.commit().unwrap();
        assert!(out.join(MARKER).is_file(), "a site carries its marker");
        let second = Staging::new(&out).unwrap();
        second.write("data/runs.json", b"[2]").unwrap();
        drop(second);
        assert_eq!(fs::read(out.join("data/runs.json")).unwrap(), b"[1]");
        let leftovers: Vec<_> = fs::read_dir(tmp.path()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "temporary folders are cleaned up");
    }

    #[test]
    fn commit_replaces_the_previous_site_whole() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("site");
        let first = Staging::new(&out).unwrap();
        first.write("data/runs.json", b"[1]").unwrap();
        first.write("old.html", b"x").unwrap();
        first.commit().unwrap();
        let second = Staging::new(&out).unwrap();
        second.write("data/runs.json", b"[2]").unwrap();
        second.commit().unwrap();
        assert_eq!(fs::read(out.join("data/runs.json")).unwrap(), b"[2]");
        assert!(!out.join("old.html").exists());
    }

    #[test]
    fn refuses_to_replace_a_folder_that_is_not_a_site() {
        let tmp = tempfile::tempdir().unwrap();
        fs::write(tmp.path().join("thesis.tex"), "precious").unwrap();
        fs::create_dir(tmp.path().join("data")).unwrap();
        fs::write(tmp.path().join("data/runs.json"), "{}").unwrap();
        let err = Staging::new(tmp.path()).err().unwrap();
        assert!(err.to_string().contains("refusing"), "{err}");
    }

    #[test]
    fn refuses_paths_that_climb_out() {
        let tmp = tempfile::tempdir().unwrap();
        let s = Staging::new(&tmp.path().join("site")).unwrap();
        assert!(s.write("../x", b"").is_err());
        assert!(s.write("/etc/x", b"").is_err());
    }
}
