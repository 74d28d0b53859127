//! Fault tests of onwatch's scanner on a mocked HTTP layer: see `tests/faults.rs`.
//!
//! A package of its own because the AWS SDK's test utilities (the service crates' `test-util`
//! feature and aws-smithy-mocks) turn on serde_json's `preserve_order` feature. As dev-dependencies
//! of onwatch itself they would change the key order of onwatch's JSON output in every other test
//! build, and only there. `scripts/test.sh` runs this package after onwatch's own tests.
