//! onwatch's integration tests, in one binary: every file under `tests/` used to be its own
//! binary linking the crate and all of its AWS SDKs, and linking dominated the suite's time.
//!
//! Conformance tests need external tools (HashiCorp's hclfmt, the SARIF Multitool, the moto AWS
//! emulator, Checkov, a headless browser). They are `#[ignore]`d with a reason naming the tool, so
//! a plain `cargo test` runs everything else on any machine; `scripts/test.sh` installs the tools
//! and runs the whole suite with `--include-ignored`, where a missing tool fails the test.

mod common;
mod harness;

mod alarm_kinds;
mod account_level;
mod architecture;
mod audit;
mod audit_emulator;
mod catalog;
mod check;
mod check_terraform;
mod composites;
mod declared;
mod ci_examples;
mod cli;
mod config_files;
mod drift;
mod drift_emulator;
mod fleet;
mod emulator_isolation;
mod fanout;
mod fuzz;
mod fuzz_memory;
mod hygiene;
mod generate;
mod html_report;
mod iac_scan;
mod init;
mod names;
mod network;
mod opt_in_types;
mod outputs;
mod partition;
mod report_flag;
mod progress;
mod recommended;
mod reports;
mod runner;
mod sarif_multitool;
mod scan_calls;
mod scan_cli;
mod organization_emulator;
mod scan_emulator;
mod scan_faults;
mod schemas;
mod security;
mod security_assessors;
mod security_emulator;
mod storage_dns_scheduler;
