//! onwatch: monitoring-as-code for AWS.
//!
//! Layers, each using only the ones below it (ARCHITECTURE.md has the map):
//!
//! - [`support`], [`error`], [`json`], [`output`], [`findings`]: helpers and the finding records.
//! - [`model`]: the neutral inventory every adapter produces and every check reads.
//! - [`config`]: configuration and policies, parsed and validated.
//! - Adapters into the model: [`snapshot`] (JSON files), [`scan`] (AWS), [`terraform`] (HCL).
//! - [`check`]: the check families (coverage, security, drift), pure functions over the model.
//! - [`generate`]: the Terraform module that closes the gaps.
//! - [`report`]: one printer per output format; [`audit`]: reading the audit trail.
//! - [`schemas`]: the JSON Schemas shipped under `schemas/`; [`init`]: a starting configuration;
//!   [`cli`]: the command line.

pub mod support;
pub mod error;
pub mod json;
pub mod output;
pub mod findings;
pub mod model;
pub mod config;
pub mod snapshot;
pub mod scan;
pub mod terraform;
pub mod check;
pub mod generate;
pub mod report;
pub mod audit;
pub mod schemas;
pub mod init;
pub mod cli;

/// Built-in defaults, embedded at build time by `build.rs`.
pub mod embedded {
    include!(concat!(env!("OUT_DIR"), "/embedded.rs"));
}

pub use error::{Error, Result};
