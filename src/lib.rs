//! onwatch: monitoring-as-code for AWS.
//!
//! One neutral [`inventory::Inventory`] model, filled from snapshots or the live [`scan`]ner;
//! [`check::evaluate`] diffs it against validated [`config::Settings`] and yields findings,
//! which the [`report`] printers render.

pub mod audit;
pub mod baseline;
pub mod check;
pub mod generate;
pub mod cli;
pub mod config;
pub mod drift;
pub mod error;
pub mod findings;
pub mod inventory;
pub mod json;
pub mod output;
pub mod report;
pub mod scan;
pub mod security;
pub mod snapshot;
pub mod terraform;

/// Built-in defaults, embedded at build time by `build.rs`.
pub mod embedded {
    include!(concat!(env!("OUT_DIR"), "/embedded.rs"));
}

pub use error::{Error, Result};
