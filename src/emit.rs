//! Emit stage: the only code that writes. Compares the rendered tree with `out/`, writes
//! what changed (each file atomically, by rename), removes what it generated earlier and no
//! longer renders, and nothing else.
//!
//! Invariants: an unchanged file is never rewritten (mtimes stay, `git status` stays clean);
//! a file not listed in the previous manifest is never removed.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::Write;
use std::path::Path;

use crate::error::{Error, Result};
use crate::render::MANIFEST;

#[derive(Debug, Default)]
pub struct Outcome {
    pub written: Vec<String>,
    pub removed: Vec<String>,
    pub unchanged: usize,
}

/// Files listed in `out/`'s manifest from the previous build (empty if none).
pub fn previous_manifest(out: &Path) -> Result<BTreeSet<String>> {
    let path = out.join(MANIFEST);
    match fs::read_to_string(&path) {
        Ok(text) => Ok(text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            // Never follow a tampered manifest out of out/.
            .filter(|l| !l.split('/').any(|c| c == ".." || c.is_empty()) && !l.starts_with('/'))
            .map(str::to_owned)
            .collect()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BTreeSet::new()),
        Err(e) => Err(Error::io(path, e)),
    }
}

pub fn write_tree(out: &Path, files: &BTreeMap<String, String>) -> Result<Outcome> {
    let previous = previous_manifest(out)?;
    let mut outcome = Outcome::default();
    // The manifest goes last: until it is written the old one still names every old file.
    for (rel, contents) in files.iter().filter(|(p, _)| p.as_str() != MANIFEST) {
        if write_if_changed(&out.join(rel), contents, None, Durability::Regenerable)? {
            outcome.written.push(rel.clone());
        } else {
            outcome.unchanged += 1;
        }
    }
    for stale in previous.iter().filter(|p| !files.contains_key(*p)) {
        let path = out.join(stale);
        match fs::remove_file(&path) {
            Ok(()) => outcome.removed.push(stale.clone()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io(path, e)),
        }
        // Drop directories the removal emptied (remove_dir refuses non-empty ones).
        let mut dir = path.parent();
        while let Some(d) = dir.filter(|d| *d != out) {
            if fs::remove_dir(d).is_err() {
                break;
            }
            dir = d.parent();
        }
    }
    if let Some(manifest) = files.get(MANIFEST) {
        if write_if_changed(&out.join(MANIFEST), manifest, None, Durability::Regenerable)? {
            outcome.written.push(MANIFEST.to_owned());
        } else {
            outcome.unchanged += 1;
        }
    }
    Ok(outcome)
}

/// Writes the files of one flat folder (`locks/`) durably, and removes those of `previous`
/// that are no longer rendered.
pub fn write_files(
    dir: &Path,
    files: &BTreeMap<String, String>,
    previous: &BTreeSet<String>,
) -> Result<Outcome> {
    let mut outcome = Outcome::default();
    for (name, contents) in files {
        if write_if_changed(&dir.join(name), contents, None, Durability::Durable)? {
            outcome.written.push(name.clone());
        } else {
            outcome.unchanged += 1;
        }
    }
    for stale in previous.iter().filter(|p| !files.contains_key(*p)) {
        if remove_file(&dir.join(stale))? {
            outcome.removed.push(stale.clone());
        }
    }
    Ok(outcome)
}

/// How a file is written: `Durable` files (the lock, `secrets/`) are fsynced before the
/// rename, because they cannot be regenerated; `out/` files can, by the next build, and
/// thousands of fsyncs would dominate a large build.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    Regenerable,
    Durable,
}

/// Writes `contents` to `path` through a temporary file and a rename, unless it already
/// holds exactly that. `mode` applies to the temporary file before any byte is written.
pub fn write_if_changed(
    path: &Path,
    contents: &str,
    mode: Option<u32>,
    durability: Durability,
) -> Result<bool> {
    if fs::read(path).is_ok_and(|old| old == contents.as_bytes()) {
        return Ok(false);
    }
    let dir = path.parent().expect("paths are inside a folder");
    fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        path.file_name().expect("file name").to_string_lossy(),
        std::process::id()
    ));
    let result = (|| {
        let mut opts = fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        if let Some(mode) = mode {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(mode);
        }
        let mut f = opts.open(&tmp)?;
        f.write_all(contents.as_bytes())?;
        if durability == Durability::Durable {
            f.sync_all()?;
        }
        #[cfg(unix)]
        if path.extension().is_some_and(|e| e == "sh") {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&tmp, fs::Permissions::from_mode(0o755))?;
        }
        fs::rename(&tmp, path)
    })();
    result.map_err(|e| {
        let _ = fs::remove_file(&tmp);
        Error::io(path, e)
    })?;
    if durability == Durability::Durable {
        // The rename lives in the folder: without this a crash could bring back the old file.
        fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| Error::io(dir, e))?;
    }
    Ok(true)
}

/// Creates every file of `files` under `dir`, or none: refuses when any already exists.
pub fn create_new(dir: &Path, files: &BTreeMap<String, String>) -> Result<Vec<String>> {
    let existing: Vec<String> = files
        .keys()
        .filter(|rel| dir.join(rel).exists())
        .cloned()
        .collect();
    if !existing.is_empty() {
        return Err(Error::Input(format!(
            "{}: {} already {}; init writes into an empty repository and never overwrites (move them away, or copy what you need from `postgrest-gen init` run in an empty folder)",
            dir.display(),
            existing.join(", "),
            if existing.len() == 1 { "exists" } else { "exist" }
        )));
    }
    for (rel, contents) in files {
        write_if_changed(&dir.join(rel), contents, None, Durability::Durable)?;
    }
    Ok(files.keys().cloned().collect())
}

pub fn remove_file(path: &Path) -> Result<bool> {
    match fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(Error::io(path, e)),
    }
}
