//! The neutral model at the bottom of the crate: the inventory of one or more AWS accounts, as
//! the live scanner, JSON snapshots and the Terraform reader all describe it; CloudWatch
//! dimensions; ARNs with their partition; the rules of alarm delivery; CloudWatch Logs filter
//! patterns; and the validated names that become Terraform identifiers (`names`). Checks,
//! generation and drift only ever see these types, never SDK types or parsed HCL, so they can be
//! tested by building an inventory by hand.

pub mod arn;
mod assemble;
pub mod delivery;
mod dimensions;
pub mod filter_pattern;
pub mod math;
mod inventory;
pub mod names;

pub use arn::Arn;
pub use assemble::{accounts, assemble, of_account, ScopePart};
pub use dimensions::Dimensions;
pub use inventory::*;
