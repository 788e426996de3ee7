//! The real cfn-lint (1.58.x, installed by scripts/install-tools.sh) lints every synthesized
//! template of every environment: 0 errors, 0 warnings.

use crate::support::*;

#[test]
fn every_template_passes_cfn_lint() {
    let lint = tool("KIRO_CFN_LINT", "cfn-lint 1.58.x");
    let version = std::process::Command::new(&lint).arg("--version").output().unwrap();
    assert!(
        stdout(&version).contains("1.58."),
        "cfn-lint 1.58.x expected, found {}",
        stdout(&version)
    );
    let dir = tempfile::tempdir().unwrap();
    let o = kiro(dir.path()).arg("synth").output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let mut files: Vec<_> = glob(&dir.path().join("templates"));
    files.sort();
    assert_eq!(files.len(), 9);
    let o = std::process::Command::new(&lint)
        .arg("--format")
        .arg("parseable")
        .args(&files)
        .output()
        .unwrap();
    let out = stdout(&o);
    assert!(
        o.status.success() && out.trim().is_empty(),
        "cfn-lint found problems:\n{out}\n{}",
        stderr(&o)
    );
}

fn glob(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for env in std::fs::read_dir(dir).unwrap().flatten() {
        if env.path().is_dir() {
            for f in std::fs::read_dir(env.path()).unwrap().flatten() {
                if f.path().to_string_lossy().ends_with(".template.json") {
                    out.push(f.path());
                }
            }
        }
    }
    out
}
