//! Writing synth output atomically: the whole new tree is written to a temporary directory
//! beside the output directory and swapped in with renames, so the output directory is either
//! entirely old or entirely new, never a mix, and untouched on any error.

use crate::synth::{Manifest, ManifestStack, SynthesizedStack};
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

pub const MANIFEST: &str = "manifest.json";

#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error("{path}: {action}: {source}")]
    Io {
        path: String,
        action: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{path}: refusing to replace a directory that holds files kiro-infra did not write ({found}); choose an empty directory or one written by `kiro-infra synth`"
    )]
    Foreign { path: String, found: String },
}

fn io<'a>(path: &'a Path, action: &'static str) -> impl FnOnce(std::io::Error) -> OutputError + 'a {
    move |source| OutputError::Io {
        path: path.display().to_string(),
        action,
        source,
    }
}

/// Every file of the output tree (relative path -> bytes) for the stacks of `environments`,
/// keeping the environments that were not synthesized this time from the existing directory.
pub fn plan<'s>(
    environments: &[String],
    stacks: impl Iterator<Item = &'s SynthesizedStack>,
    out: &Path,
    out_display: &str,
) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut entries: Vec<ManifestStack> = Vec::new();
    // Environments not selected this time keep their files and manifest entries.
    if let Some(old) = read_manifest(out) {
        for entry in old.into_iter().filter(|e| !environments.contains(&e.environment)) {
            let path = out.join(&entry.template);
            if let Ok(bytes) = fs::read(&path) {
                files.insert(entry.template.clone(), bytes);
                entries.push(entry);
            }
        }
    }
    for stack in stacks {
        files.insert(stack.file.clone(), stack.rendered().text.as_bytes().to_vec());
        entries.push(stack.manifest_entry(out_display));
    }
    entries.sort_by(|a, b| {
        (env_rank(&a.environment), &a.environment, a.order).cmp(&(env_rank(&b.environment), &b.environment, b.order))
    });
    let manifest = Manifest {
        version: 1,
        generator: "kiro-infra",
        stacks: entries,
    };
    let mut text = serde_json::to_string_pretty(&manifest).unwrap_or_default();
    text.push('\n');
    files.insert(MANIFEST.to_string(), text.into_bytes());
    files
}

fn env_rank(env: &str) -> usize {
    crate::config::BUILTIN_ENVIRONMENTS
        .iter()
        .position(|e| *e == env)
        .unwrap_or(usize::MAX)
}

fn read_manifest(out: &Path) -> Option<Vec<ManifestStack>> {
    let text = fs::read_to_string(out.join(MANIFEST)).ok()?;
    let value: serde_json::Value = serde_json::from_str(&text).ok()?;
    serde_json::from_value(value.get("stacks")?.clone()).ok()
}

/// Files that differ between `out` and `files`: changed, missing, or extra.
pub fn stale(out: &Path, files: &BTreeMap<String, Vec<u8>>) -> Vec<String> {
    let mut out_of_date = Vec::new();
    for (rel, bytes) in files {
        match fs::read(out.join(rel)) {
            Ok(existing) if &existing == bytes => {}
            Ok(_) => out_of_date.push(format!("{rel} (differs)")),
            Err(_) => out_of_date.push(format!("{rel} (missing)")),
        }
    }
    for rel in existing_files(out) {
        if !files.contains_key(&rel) {
            out_of_date.push(format!("{rel} (not produced by synth)"));
        }
    }
    out_of_date
}

/// Relative paths of the files below `dir` (sorted).
fn existing_files(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = fs::read_dir(&d) else { continue };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if let Ok(rel) = p.strip_prefix(dir) {
                out.push(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    out.sort();
    out
}

/// Writes `files` as the whole content of `out`, atomically.
pub fn write(out: &Path, files: &BTreeMap<String, Vec<u8>>) -> Result<(), OutputError> {
    stage(out, files)?.commit()
}

/// The new content of an output directory, written beside it and not yet in place: `commit`
/// swaps it in; dropped without that, it is removed and `out` stays as it was. (Staging while
/// the checks still run takes the writing off the end of a synth; nothing is in place before
/// they pass.)
#[derive(Debug)]
pub struct Staged {
    out: PathBuf,
    tmp: PathBuf,
    old: PathBuf,
    committed: bool,
}

/// Writes `files` to a temporary directory beside `out`, refusing an `out` that holds files
/// kiro-infra did not write.
pub fn stage(out: &Path, files: &BTreeMap<String, Vec<u8>>) -> Result<Staged, OutputError> {
    if out.exists() {
        let foreign: Vec<String> = existing_files(out)
            .into_iter()
            .filter(|f| f != MANIFEST && !(f.ends_with(".template.json") && f.matches('/').count() == 1))
            .collect();
        if !foreign.is_empty() {
            let mut found = foreign.iter().take(3).cloned().collect::<Vec<_>>().join(", ");
            if foreign.len() > 3 {
                found.push_str(&format!(" and {} more", foreign.len() - 3));
            }
            return Err(OutputError::Foreign {
                path: out.display().to_string(),
                found,
            });
        }
    }
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&parent).map_err(io(&parent, "cannot create the parent directory"))?;
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_else(|| "out".into());
    let staged = Staged {
        out: out.to_path_buf(),
        tmp: parent.join(format!(".{name}.kiro-infra-tmp-{}", std::process::id())),
        old: parent.join(format!(".{name}.kiro-infra-old-{}", std::process::id())),
        committed: false,
    };
    let tmp = &staged.tmp;
    let _ = fs::remove_dir_all(tmp);
    fs::create_dir_all(tmp).map_err(io(tmp, "cannot create a temporary directory"))?;
    for (rel, bytes) in files {
        let path = tmp.join(rel);
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).map_err(io(dir, "cannot create a directory"))?;
        }
        fs::write(&path, bytes).map_err(io(&path, "cannot write"))?;
    }
    // On an error above, dropping `staged` removes what was written.
    Ok(staged)
}

impl Staged {
    /// Swaps the staged directory in place of the output directory.
    pub fn commit(mut self) -> Result<(), OutputError> {
        let (out, tmp, old) = (&self.out, &self.tmp, &self.old);
        if out.exists() {
            fs::rename(out, old).map_err(io(out, "cannot move the old output aside"))?;
            if let Err(e) = fs::rename(tmp, out) {
                let _ = fs::rename(old, out);
                return Err(io(out, "cannot move the new output into place")(e));
            }
            let _ = fs::remove_dir_all(old);
        } else {
            fs::rename(tmp, out).map_err(io(out, "cannot move the new output into place"))?;
        }
        self.committed = true;
        Ok(())
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_dir_all(&self.tmp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(text: &str) -> BTreeMap<String, Vec<u8>> {
        BTreeMap::from([
            ("test/A.template.json".to_string(), text.as_bytes().to_vec()),
            (MANIFEST.to_string(), b"{}\n".to_vec()),
        ])
    }

    fn entries(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .map(|d| {
                d.flatten()
                    .map(|e| e.file_name().to_string_lossy().to_string())
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }

    /// Staged output is invisible until committed; dropped uncommitted (a check failed), it
    /// leaves the output directory as it was and no temporary directory behind.
    #[test]
    fn staged_output_is_swapped_in_only_on_commit() {
        let root = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let out = root.path().join("templates");
        write(&out, &files("old")).unwrap_or_else(|e| panic!("{e}"));
        let staged = stage(&out, &files("new")).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            fs::read_to_string(out.join("test/A.template.json")).ok().as_deref(),
            Some("old")
        );
        assert_eq!(entries(root.path()).len(), 2, "the staged tree sits beside the output");
        drop(staged);
        assert_eq!(entries(root.path()), vec!["templates".to_string()]);
        assert_eq!(
            fs::read_to_string(out.join("test/A.template.json")).ok().as_deref(),
            Some("old")
        );
        stage(&out, &files("new"))
            .and_then(Staged::commit)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(entries(root.path()), vec!["templates".to_string()]);
        assert_eq!(
            fs::read_to_string(out.join("test/A.template.json")).ok().as_deref(),
            Some("new")
        );
        assert!(stale(&out, &files("new")).is_empty());
    }
}
