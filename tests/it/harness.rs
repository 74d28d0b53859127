#![allow(dead_code)]
//! Starts the AWS API emulator (moto's server, through tests/emulator/server.py), seeds it, and runs
//! the onwatch binary against it. One server per test process, started on first use, gives every
//! [`Emulator::start`] an account of its own (a few seconds saved per test); a test that must stop
//! or patch the server takes [`Emulator::private`], killed when it drops.

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

/// One emulator for every test of this process that does not need its own ([`Emulator::private`]):
/// started on first use, and gone with the process (it exits when its stdin, held here, closes).
struct SharedServer {
    port: u16,
    log: PathBuf,
    _stdin: std::process::ChildStdin,
}

static SHARED: std::sync::OnceLock<SharedServer> = std::sync::OnceLock::new();
/// Accounts handed out by [`Emulator::start`]: 100000000001, 100000000002, ... (never moto's
/// default account, 123456789012, which a private server serves).
static ACCOUNTS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

pub struct Emulator {
    /// Set for a private server only: killed when the emulator drops.
    child: Option<Child>,
    /// What `--endpoint-url` and boto3's `endpoint_url` take: on the shared server, a path that
    /// stands for this emulator's account (tests/emulator/server.py).
    pub endpoint: String,
    /// The AWS account this emulator's endpoint serves: every call through it is in this account.
    pub account: String,
    log: PathBuf,
    _dir: Option<tempfile::TempDir>,
}

/// Starts tests/emulator/server.py on a free port of 127.0.0.1 and waits until it answers.
fn spawn_server(extra: &[&str], stdin: Stdio, log: &Path) -> (Child, u16) {
    tool("ONWATCH_MOTO_SERVER");
    let python = tool("ONWATCH_PYTHON");
    // moto needs an explicit port: take a free one from the OS, then hand it over.
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut child = Command::new(python)
        .arg(emulator_dir().join("server.py"))
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .args(extra)
        .stdin(stdin)
        .stdout(Stdio::null())
        .stderr(fs::File::create(log).unwrap())
        .spawn()
        .expect("start the emulator");
    let stderr = || fs::read_to_string(log).unwrap_or_default();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return (child, port);
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the emulator exited ({status}):\n{}", stderr());
        }
        assert!(Instant::now() < deadline, "the emulator did not answer within 60 s:\n{}", stderr());
        std::thread::sleep(Duration::from_millis(100));
    }
}

impl Emulator {
    /// A fresh AWS account on this process's shared emulator (started on first use): what one
    /// test creates there, another test's account does not see (`emulator_isolation::`).
    pub fn start() -> Self {
        let shared = SHARED.get_or_init(|| {
            let log = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("emulator-{}.err", std::process::id()));
            let (mut child, port) = spawn_server(&["--exit-on-stdin-eof"], Stdio::piped(), &log);
            SharedServer { port, log, _stdin: child.stdin.take().unwrap() }
        });
        let account = format!("{:012}", 100_000_000_000 + ACCOUNTS.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
        let endpoint = format!("http://127.0.0.1:{}/accounts/{account}", shared.port);
        Emulator { child: None, endpoint, account, log: shared.log.clone(), _dir: None }
    }

    /// An emulator of this test's own, in moto's default account ([`ACCOUNT`]), killed when it
    /// drops: for a test that stops, restarts or patches the server.
    pub fn private() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("emulator.err");
        let (child, port) = spawn_server(&[], Stdio::null(), &log);
        Emulator { child: Some(child), endpoint: format!("http://127.0.0.1:{port}"), account: ACCOUNT.into(), log, _dir: Some(dir) }
    }

    /// The emulator's log (on the shared server, every test's requests).
    pub fn stderr(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Runs tests/emulator/seed.py against this emulator's account and returns what it made.
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
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
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
