//! Helpers shared by the integration tests.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The crate's root (where `templates/` and `rules/` are).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A command running the built `kiro-infra` binary in `dir`.
/// The binary, run in `dir`, without colour and without the verdict cache (each test checks
/// for real; the cache has its own tests, which use [`kiro_cached`]).
pub fn kiro(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kiro-infra"));
    cmd.current_dir(dir).env("NO_COLOR", "1").env("KIRO_NO_CACHE", "1");
    cmd
}

/// The binary with its verdict cache in `cache`.
pub fn kiro_cached(dir: &Path, cache: &Path) -> Command {
    let mut cmd = kiro(dir);
    cmd.env_remove("KIRO_NO_CACHE").env("KIRO_CACHE_DIR", cache);
    cmd
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The path of a real tool from an environment variable set by `scripts/install-tools.sh`, or a
/// failure that says how to get it.
pub fn tool(var: &str, what: &str) -> PathBuf {
    match std::env::var_os(var) {
        Some(p) if Path::new(&p).exists() => PathBuf::from(p),
        _ => panic!("{what} is required: run `eval \"$(scripts/install-tools.sh)\"` first (sets {var})"),
    }
}

/// Every snapshot lives in the top-level `snapshots/` directory.
#[macro_export]
macro_rules! snap {
    ($name:expr, $value:expr) => {
        insta::with_settings!({
            snapshot_path => concat!(env!("CARGO_MANIFEST_DIR"), "/snapshots"),
            prepend_module_to_snapshot => false,
            omit_expression => true,
        }, {
            insta::assert_snapshot!($name, $value);
        })
    };
}

/// Lists every file under `dir` with its bytes, to prove a directory was left untouched.
pub fn tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
                out.push((rel, std::fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

/// A moto server on 127.0.0.1 (a free port), stopped when dropped.
pub struct Moto {
    child: std::process::Child,
    pub endpoint: String,
    pub home: tempfile::TempDir,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn python() -> String {
    std::env::var("KIRO_PYTHON").unwrap_or_else(|_| "python3".to_string())
}

pub fn start_moto() -> Moto {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("no free port: {e}"));
    let py = python();
    let child = std::process::Command::new(&py)
        .args(["-m", "moto.server", "-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("cannot run `{py} -m moto.server` ({e}): install moto[server] 5.2.1 (`pip install 'moto[server]==5.2.1'`) or set KIRO_PYTHON to a python that has it")
        });
    let moto = Moto {
        child,
        endpoint: format!("http://127.0.0.1:{port}"),
        home: tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}")),
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return moto;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "moto server did not start on port {port}: install moto[server] 5.2.1 for `{py}` (or set KIRO_PYTHON)"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

/// The AWS CLI: `KIRO_AWS`, else `aws` next to `KIRO_PYTHON` (a venv), else `aws` on PATH.
pub fn aws_program() -> String {
    if let Ok(p) = std::env::var("KIRO_AWS") {
        return p;
    }
    if let Ok(py) = std::env::var("KIRO_PYTHON")
        && let Some(dir) = Path::new(&py).parent()
        && dir.join("aws").is_file()
    {
        return dir.join("aws").display().to_string();
    }
    "aws".to_string()
}

/// `aws` with dummy credentials and an empty config home, so the user's profile never leaks in.
pub fn aws(moto: &Moto) -> std::process::Command {
    let mut c = std::process::Command::new(aws_program());
    c.env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_SESSION_TOKEN", "testing")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_CONFIG_FILE", moto.home.path().join("config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", moto.home.path().join("credentials"))
        .env_remove("AWS_PROFILE");
    c
}
