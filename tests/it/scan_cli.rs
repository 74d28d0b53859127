//! The scan command's contract: a failed scan exits 2 and writes nothing, and an inventory comes
//! from exactly one source. (Faults inside the scanner are tested in scan_faults.rs.)

use std::{
    io::{Read, Write},
    net::TcpListener,
    time::Duration,
};

const REGION: &str = "eu-west-1";

/// A local endpoint that answers every request with 403 AccessDenied.
fn denying_endpoint() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let _ = stream.set_read_timeout(Some(Duration::from_millis(200)));
            let mut buffer = [0u8; 65536];
            let _ = stream.read(&mut buffer);
            let body = "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>not authorized</Message></Error><RequestId>1</RequestId></ErrorResponse>";
            let _ = write!(stream, "HTTP/1.1 403 Forbidden\r\nContent-Type: text/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len());
        }
    });
    format!("http://{address}")
}

#[test]
fn a_failed_scan_exits_two_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("inventory.json"), "previous snapshot").unwrap();
    let endpoint = denying_endpoint();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_onwatch"))
        .args(["scan", "--endpoint-url", &endpoint, "--region", REGION, "--output", "inventory.json"])
        .current_dir(dir.path())
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", dir.path().join("none"))
        .env("AWS_SHARED_CREDENTIALS_FILE", dir.path().join("none"))
        .env_remove("AWS_PROFILE")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.starts_with("error: scan failed: sts:GetCallerIdentity in (caller)/eu-west-1: "), "{stderr}");
    assert!(stderr.contains("onwatch iam-policy"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(std::fs::read_to_string(dir.path().join("inventory.json")).unwrap(), "previous snapshot", "nothing written");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "no temporary file left");
}

#[test]
fn an_inventory_comes_from_exactly_one_source() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("inventory.json"), r#"{"version": 1}"#).unwrap();
    let run = |args: &[&str]| {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_onwatch")).args(args).current_dir(dir.path()).output().unwrap();
        (output.status.code(), String::from_utf8_lossy(&output.stderr).into_owned())
    };
    let (code, stderr) = run(&["check", "--inventory", "inventory.json", "--live"]);
    assert_eq!(code, Some(2), "{stderr}");
    let (code, stderr) = run(&["check"]);
    assert_eq!(code, Some(2), "{stderr}");
    let (code, stderr) = run(&["check", "--inventory", "inventory.json", "--region", "eu-west-1"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("need --live"), "{stderr}");
    let (code, stderr) = run(&["scan", "--region", "eu-west", "--output", "x.json"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("is not an AWS region name"), "{stderr}");
    let (code, stderr) = run(&["scan", "--region", "eu-west-1", "--all-regions", "--output", "x.json"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(!dir.path().join("x.json").exists());
}
