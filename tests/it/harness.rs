#![allow(dead_code)]
//! Starts the AWS API emulator (moto's server, through tests/emulator/server.py), seeds it, and runs
//! the onwatch binary against it. The emulator is killed when the [`Emulator`] drops, so a failing
//! test does not leave it running.

use std::{
    fs,
    net::{TcpListener, TcpStream},
    path::{Path, PathBuf},
    process::{Child, Command, Output, Stdio},
    time::{Duration, Instant},
};

pub const ACCOUNT: &str = "123456789012";
pub const REGION: &str = "us-east-1";
/// Pins `generated_at`, so two scans of the same account are byte-identical.
pub const SOURCE_DATE_EPOCH: &str = "1764028800";

/// A tool that scripts/test.sh installs and exports; a missing one fails the test, never skips it.
pub fn tool(variable: &str) -> PathBuf {
    let path = std::env::var_os(variable)
        .unwrap_or_else(|| panic!("{variable} is not set: run scripts/test.sh, which installs moto into .tools/venv"));
    let path = PathBuf::from(path);
    assert!(path.exists(), "{variable}={} does not exist: run scripts/test.sh", path.display());
    path
}

fn emulator_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/emulator")
}

pub struct Emulator {
    child: Child,
    pub endpoint: String,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Emulator {
    /// Starts the emulator on a free port of 127.0.0.1 and waits until it answers.
    pub fn start() -> Self {
        tool("ONWATCH_MOTO_SERVER");
        let python = tool("ONWATCH_PYTHON");
        // moto needs an explicit port: take a free one from the OS, then hand it over.
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("emulator.log");
        let child = Command::new(python)
            .arg(emulator_dir().join("server.py"))
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(fs::File::create(&log).unwrap())
            .stderr(fs::File::create(dir.path().join("emulator.err")).unwrap())
            .spawn()
            .expect("start the emulator");
        let mut emulator = Emulator { child, endpoint: format!("http://127.0.0.1:{port}"), log: dir.path().join("emulator.err"), _dir: dir };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return emulator;
            }
            if let Some(status) = emulator.child.try_wait().unwrap() {
                panic!("the emulator exited ({status}):\n{}", emulator.stderr());
            }
            assert!(Instant::now() < deadline, "the emulator did not answer within 60 s:\n{}", emulator.stderr());
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn stderr(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Runs tests/emulator/seed.py against the emulator and returns what it reports it made.
    pub fn seed(&self, extra: &[&str]) -> serde_json::Value {
        let output = Command::new(tool("ONWATCH_PYTHON"))
            .arg(emulator_dir().join("seed.py"))
            .args(["--endpoint", &self.endpoint, "--region", REGION])
            .args(extra)
            .output()
            .unwrap();
        assert!(output.status.success(), "seeding failed:\n{}\nemulator:\n{}", String::from_utf8_lossy(&output.stderr), self.stderr());
        serde_json::from_slice(&output.stdout).expect("seed.py prints JSON")
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs the onwatch binary in `dir` with test credentials and no AWS configuration from the host.
pub fn onwatch(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_onwatch"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", dir.join("no-aws-config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", dir.join("no-aws-credentials"))
        .env("SOURCE_DATE_EPOCH", SOURCE_DATE_EPOCH)
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_REGION")
        .env_remove("AWS_DEFAULT_REGION")
        .env_remove("AWS_ENDPOINT_URL")
        .output()
        .unwrap()
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
