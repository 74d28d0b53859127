//! Network bounds and broken endpoints, through the binary against tiny servers on 127.0.0.1
//! (issue 15, defects 9, 12, 13 and the raw responses in error messages): every AWS call ends
//! within `--timeout`, a response is read up to a size bound, error messages quote at most one
//! bounded line of a response, and a listing that is not a DynamoDB answer fails instead of
//! printing "no audit records". Each server stops by itself: it serves a bounded number of
//! connections, and each connection for a bounded time.

use std::{
    io::{Read, Write},
    net::{TcpListener, TcpStream},
    path::Path,
    process::{Command, Output},
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

const REGION: &str = "eu-west-1";
/// What a server does with each connection, after reading the request.
type Behaviour = fn(&mut TcpStream);

/// A server on 127.0.0.1 that reads each request and then behaves as told, for at most 16
/// connections (the SDK's retries) and 30 s each.
fn endpoint(behaviour: Behaviour) -> String {
    counted_endpoint(behaviour).0
}

/// [`endpoint`], and the number of connections it accepted.
fn counted_endpoint(behaviour: Behaviour) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    let connections = Arc::new(AtomicUsize::new(0));
    let counter = connections.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(16) {
            let Ok(mut stream) = stream else { continue };
            counter.fetch_add(1, Ordering::SeqCst);
            std::thread::spawn(move || {
                let _ = stream.set_read_timeout(Some(Duration::from_millis(300)));
                let _ = stream.set_write_timeout(Some(Duration::from_secs(5)));
                let mut buffer = [0u8; 65536];
                let _ = stream.read(&mut buffer);
                behaviour(&mut stream);
            });
        }
    });
    (format!("http://{address}"), connections)
}

/// Holds the connection open and says nothing.
fn silent(stream: &mut TcpStream) {
    let until = Instant::now() + Duration::from_secs(30);
    let mut buffer = [0u8; 1024];
    while Instant::now() < until {
        // Ends when the client hangs up (read returns 0) or on the deadline.
        match stream.read(&mut buffer) {
            Ok(0) => return,
            _ => std::thread::sleep(Duration::from_millis(50)),
        }
    }
}

/// Sends `bytes` one at a time, 5 a second, until the client hangs up or 30 s pass.
fn trickle(stream: &mut TcpStream, bytes: &[u8]) {
    for byte in bytes.iter().cycle().take(150) {
        if stream.write_all(&[*byte]).and_then(|()| stream.flush()).is_err() {
            return;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn trickled_headers(stream: &mut TcpStream) {
    trickle(stream, b"HTTP/1.1 200 OK\r\nx-padding: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
}

fn trickled_body(stream: &mut TcpStream) {
    let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: 100000\r\n\r\n<Get");
    trickle(stream, b"CallerIdentityResponse ");
}

fn huge_declared(stream: &mut TcpStream) {
    let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: 8589934592\r\n\r\n<GetCallerIdentityResponse>");
    silent(stream);
}

/// A chunked body without end: 1 MiB chunks, up to 128 MiB or until the client hangs up.
fn endless_chunks(stream: &mut TcpStream) {
    let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nTransfer-Encoding: chunked\r\n\r\n");
    let chunk = vec![b'x'; 1 << 20];
    for _ in 0..128 {
        let written = write!(stream, "{:x}\r\n", chunk.len()).and_then(|()| stream.write_all(&chunk)).and_then(|()| stream.write_all(b"\r\n"));
        if written.is_err() {
            return;
        }
    }
}

/// A 400 whose body is 4 KiB of an HTML page over many lines, as a proxy might answer.
fn html_error(stream: &mut TcpStream) {
    let body = format!("<html>\r\n<head><title>400 Bad Request</title></head>\r\n<body>\n{}</body>\n</html>\n", "<p>proxy says no</p>\n".repeat(200));
    let _ = write!(stream, "HTTP/1.1 400 Bad Request\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len());
}

/// HTTP 200 with an empty body, to every request.
fn empty_ok(stream: &mut TcpStream) {
    let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.0\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
}

fn onwatch(args: &[&str], dir: &Path) -> (Output, Duration) {
    let started = Instant::now();
    let output = Command::new(env!("CARGO_BIN_EXE_onwatch"))
        .args(args)
        .current_dir(dir)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", dir.join("none"))
        .env("AWS_SHARED_CREDENTIALS_FILE", dir.join("none"))
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_REGION")
        .output()
        .unwrap();
    (output, started.elapsed())
}

/// Runs `args`, expecting exit 2 naming `action` within `within`, with `output.json` left as it was.
fn assert_fails_in_time(args: &[&str], action: &str, within: Duration) -> String {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("output.json"), "previous").unwrap();
    let (output, elapsed) = onwatch(args, dir.path());
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
    assert!(stderr.contains(action), "{args:?} names {action}: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(elapsed < within, "{args:?} took {elapsed:?}, more than {within:?}: {stderr}");
    assert_eq!(std::fs::read_to_string(dir.path().join("output.json")).unwrap(), "previous", "nothing written");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "no temporary file left");
    stderr
}

fn scan_args(endpoint: &str) -> Vec<String> {
    ["scan", "--endpoint-url", endpoint, "--region", REGION, "--timeout", "2", "--output", "output.json"].map(String::from).to_vec()
}

fn audit_args(endpoint: &str) -> Vec<String> {
    ["audit", "list", "--endpoint-url", endpoint, "--region", REGION, "--timeout", "2", "--output", "output.json"].map(String::from).to_vec()
}

fn strs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

/// The bound: `--timeout 2`, plus the time to start the binary on a loaded two-core machine.
const WITHIN: Duration = Duration::from_secs(12);

#[test]
fn a_hung_endpoint_ends_within_the_timeout_naming_the_operation() {
    let stderr = assert_fails_in_time(&strs(&scan_args(&endpoint(silent))), "sts:GetCallerIdentity", WITHIN);
    assert!(stderr.contains("no answer in time"), "{stderr}");
    assert!(stderr.contains("--timeout"), "says how to change the bound: {stderr}");
    assert_fails_in_time(&strs(&audit_args(&endpoint(silent))), "dynamodb:Scan", WITHIN);
    let live = ["check", "--live", "--endpoint-url", &endpoint(silent), "--region", REGION, "--timeout", "2", "--output", "output.json"];
    assert_fails_in_time(&live, "sts:GetCallerIdentity", WITHIN);
}

#[test]
fn a_trickling_endpoint_ends_within_the_timeout_naming_the_operation() {
    assert_fails_in_time(&strs(&scan_args(&endpoint(trickled_headers))), "sts:GetCallerIdentity", WITHIN);
    assert_fails_in_time(&strs(&scan_args(&endpoint(trickled_body))), "sts:GetCallerIdentity", WITHIN);
    assert_fails_in_time(&strs(&audit_args(&endpoint(trickled_body))), "dynamodb:Scan", WITHIN);
}

#[test]
fn the_timeout_must_be_a_whole_number_of_seconds_within_an_hour() {
    let dir = tempfile::tempdir().unwrap();
    for bad in ["0", "3601", "1.5", "soon"] {
        let (output, _) = onwatch(&["scan", "--region", REGION, "--timeout", bad, "--output", "x.json"], dir.path());
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{bad}: {stderr}");
        assert!(stderr.contains("--timeout"), "{stderr}");
    }
    let (output, _) = onwatch(&["check", "--inventory", "x.json", "--timeout", "5"], dir.path());
    assert!(String::from_utf8_lossy(&output.stderr).contains("need --live"), "--timeout is an AWS flag");
}

#[test]
fn an_oversized_response_is_refused_before_it_is_buffered() {
    let stderr = assert_fails_in_time(&strs(&scan_args(&endpoint(huge_declared))), "sts:GetCallerIdentity", WITHIN);
    assert!(stderr.contains("8589934592 bytes (Content-Length)"), "{stderr}");
    // A longer bound here, so that a loaded machine cannot turn the size error into a timeout; and
    // one attempt only (the SDK would retry a body that fails while it is read).
    let (url, connections) = counted_endpoint(endless_chunks);
    let mut args = scan_args(&url);
    args[6] = "40".into();
    let stderr = assert_fails_in_time(&strs(&args), "sts:GetCallerIdentity", Duration::from_secs(40));
    assert!(stderr.contains("more than the 33554432 bytes onwatch reads"), "{stderr}");
    assert_eq!(connections.load(Ordering::SeqCst), 1, "not retried");
}

#[test]
fn network_error_messages_quote_one_bounded_line_of_the_response() {
    let stderr = assert_fails_in_time(&strs(&scan_args(&endpoint(html_error))), "sts:GetCallerIdentity", WITHIN);
    assert!(stderr.contains("HTTP 400"), "{stderr}");
    assert!(stderr.contains("<html> <head><title>400 Bad Request</title></head>"), "an excerpt of the body, on one line: {stderr}");
    assert!(stderr.contains("more characters)"), "marked as cut: {stderr}");
    assert!(stderr.len() < 1500, "{} bytes of stderr for a 4 KiB response: {stderr}", stderr.len());
    assert!(stderr.lines().count() <= 2, "the hint and the cause at most: {stderr}");
    assert!(stderr.matches("proxy says no").count() < 20, "not the 200 paragraphs of the page: {stderr}");
}

/// Issue 15, defect 12: an HTTP 200 with an empty body printed "no audit records" and replaced `--output`.
#[test]
fn an_empty_audit_answer_is_an_error_not_an_empty_listing() {
    let stderr = assert_fails_in_time(&strs(&audit_args(&endpoint(empty_ok))), "dynamodb:Scan", WITHIN);
    assert!(stderr.contains("holds no Items"), "{stderr}");
    assert!(!stderr.contains("no audit records"), "{stderr}");
}

/// Issue 15, defect 9: spans past what the clock holds panicked ("resulting value is out of range").
#[test]
fn audit_list_since_out_of_range_is_a_usage_error_naming_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    for since in ["100000000w", "9223372036854775807s", "99999999999999999999w"] {
        let (output, _) = onwatch(&["audit", "list", "--since", since, "--region", REGION, "--endpoint-url", "http://127.0.0.1:9"], dir.path());
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{since}: {stderr}");
        assert!(stderr.starts_with(&format!("error: --since \"{since}\"")), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}
