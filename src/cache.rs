//! The verdict cache of `synth`: what the checks said about a set of rendered templates, kept
//! so that an unchanged synth (the common case: a rerun, a pre-commit hook, a CI job with a
//! restored cache) skips the schema and rule checks, which are four fifths of its work.
//!
//! An entry is keyed by the SHA-256 of everything the verdict depends on: this binary (its
//! version, size and modification time, so any rebuild misses), the built-in rules (part of the
//! binary) and every template's name and exact text (cross-stack checks read them together).
//! Only passing verdicts are stored, as the report `synth` printed; a failure is checked anew
//! every time. Entries live in `$KIRO_CACHE_DIR`, else `$XDG_CACHE_HOME/kiro-infra/verdicts`,
//! else `~/.cache/kiro-infra/verdicts`; `--no-cache` or `KIRO_NO_CACHE=1` turns the cache off.
//! The cache is best effort: a directory that cannot be read or written only means a miss.

use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// Entries kept; the oldest go first when a store passes this.
const MAX_ENTRIES: usize = 256;

/// Format of the key and entry (bump when either changes).
const FORMAT: &str = "kiro-infra verdict v1";

#[derive(Debug, Clone)]
pub struct VerdictCache {
    dir: PathBuf,
    identity: String,
}

impl VerdictCache {
    /// The cache as the environment configures it; `None` when turned off or when this
    /// binary cannot be identified (no caching is better than a stale verdict).
    pub fn from_env() -> Option<Self> {
        if std::env::var_os("KIRO_NO_CACHE").is_some_and(|v| !v.is_empty() && v != "0") {
            return None;
        }
        let dir = match std::env::var_os("KIRO_CACHE_DIR").filter(|v| !v.is_empty()) {
            Some(d) => PathBuf::from(d),
            None => {
                let base = std::env::var_os("XDG_CACHE_HOME")
                    .filter(|v| !v.is_empty())
                    .map(PathBuf::from)
                    .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
                base.join("kiro-infra").join("verdicts")
            }
        };
        Some(VerdictCache {
            dir,
            identity: binary_identity()?,
        })
    }

    /// A cache in `dir` for a binary identified by `identity` (tests).
    pub fn at(dir: &Path, identity: &str) -> Self {
        VerdictCache {
            dir: dir.to_path_buf(),
            identity: identity.to_string(),
        }
    }

    /// The key of a set of templates: (name, text) pairs in synthesis order.
    pub fn key<'a>(&self, templates: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
        let mut h = Sha256::new();
        for part in [FORMAT, &self.identity] {
            h.update((part.len() as u64).to_le_bytes());
            h.update(part.as_bytes());
        }
        for (name, text) in templates {
            for part in [name, text] {
                h.update((part.len() as u64).to_le_bytes());
                h.update(part.as_bytes());
            }
        }
        h.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The stored report of a passing verdict, if any.
    /// Whether the cache holds no verdict at all (a fresh machine, a cleared cache): then no
    /// lookup can hit, and a caller may start the work a miss needs before it has the key.
    pub fn is_empty(&self) -> bool {
        std::fs::read_dir(&self.dir).map_or(true, |mut entries| entries.next().is_none())
    }

    pub fn get(&self, key: &str) -> Option<String> {
        let text = std::fs::read_to_string(self.dir.join(key)).ok()?;
        // The first line repeats the key: a truncated or foreign file is a miss.
        let (head, report) = text.split_once('\n')?;
        (head == key).then(|| report.to_string())
    }

    /// Stores the report of a passing verdict (best effort: errors are ignored).
    pub fn put(&self, key: &str, report: &str) {
        if std::fs::create_dir_all(&self.dir).is_err() {
            return;
        }
        let tmp = self.dir.join(format!(".{key}.{}.tmp", std::process::id()));
        if std::fs::write(&tmp, format!("{key}\n{report}")).is_ok() && std::fs::rename(&tmp, self.dir.join(key)).is_ok()
        {
            self.prune();
        } else {
            let _ = std::fs::remove_file(&tmp);
        }
    }

    fn prune(&self) {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return;
        };
        let mut files: Vec<(std::time::SystemTime, PathBuf)> = entries
            .filter_map(Result::ok)
            .filter(|e| e.file_name().len() == 64)
            .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
            .collect();
        if files.len() <= MAX_ENTRIES {
            return;
        }
        files.sort();
        for (_, path) in files.iter().take(files.len() - MAX_ENTRIES) {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// This binary: version, size and modification time (nanoseconds). Any rebuild changes it.
fn binary_identity() -> Option<String> {
    let exe = std::env::current_exe().ok()?;
    let meta = std::fs::metadata(exe).ok()?;
    let modified = meta.modified().ok()?.duration_since(std::time::UNIX_EPOCH).ok()?;
    Some(format!(
        "{} {} {}",
        env!("CARGO_PKG_VERSION"),
        meta.len(),
        modified.as_nanos()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_verdict_is_found_only_under_its_own_key() {
        let dir = tempfile::tempdir().unwrap();
        let cache = VerdictCache::at(dir.path(), "v1 100 5");
        let key = cache.key([("a.json", "{}"), ("b.json", "[]")]);
        assert_eq!(cache.get(&key), None);
        assert!(cache.is_empty());
        assert!(VerdictCache::at(&dir.path().join("missing"), "v1 100 5").is_empty());
        cache.put(&key, "checked 2 templates\n");
        assert!(!cache.is_empty());
        assert_eq!(cache.get(&key).as_deref(), Some("checked 2 templates\n"));
        // Any change of a text, a name, their split, the order or the binary is another key.
        for other in [
            cache.key([("a.json", "{ }"), ("b.json", "[]")]),
            cache.key([("a.json", "{}"), ("c.json", "[]")]),
            cache.key([("a.json", "{}b"), (".json", "[]")]),
            cache.key([("b.json", "[]"), ("a.json", "{}")]),
            VerdictCache::at(dir.path(), "v1 100 6").key([("a.json", "{}"), ("b.json", "[]")]),
        ] {
            assert_ne!(other, key);
            assert_eq!(cache.get(&other), None);
        }
    }

    #[test]
    fn a_damaged_entry_is_a_miss_and_an_unwritable_directory_is_harmless() {
        let dir = tempfile::tempdir().unwrap();
        let cache = VerdictCache::at(dir.path(), "id");
        let key = cache.key([("a", "b")]);
        std::fs::write(dir.path().join(&key), "not the key\nchecked").unwrap();
        assert_eq!(cache.get(&key), None);
        let file = dir.path().join("file");
        std::fs::write(&file, "").unwrap();
        let blocked = VerdictCache::at(&file.join("sub"), "id");
        blocked.put(&key, "x");
        assert_eq!(blocked.get(&key), None);
    }

    #[test]
    fn old_entries_are_pruned() {
        let dir = tempfile::tempdir().unwrap();
        let cache = VerdictCache::at(dir.path(), "id");
        for i in 0..MAX_ENTRIES + 5 {
            cache.put(&cache.key([("t", i.to_string().as_str())]), "ok\n");
        }
        let n = std::fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(n, MAX_ENTRIES);
    }
}
