//! JSON for machines: one pretty-printed object per section (a document with several sections is
//! a sequence of objects, as `jq` reads them). The coverage object is streamed, since on large
//! accounts it is the biggest output.

use serde::Serialize;

use super::{AuditListing, Coverage, Document, Options, Printer, Section, TOOL_NAME, TOOL_VERSION};
use crate::{
    audit::AuditRecord,
    check::{
        baseline::Delta,
        drift::{DriftItem, DriftReport, DriftSummary},
        Summary,
    },
    findings::Finding,
};

pub struct Json;

impl Printer for Json {
    const NAME: &'static str = "json";
    const SECTIONS: &'static [Section] = &[Section::Coverage, Section::Drift, Section::Audit];

    fn write(document: &Document, _: &Options, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        if let Some(coverage) = &document.coverage {
            write_coverage(document, coverage, out)?;
        }
        if let Some(drift) = document.drift {
            write_drift(document, drift, out)?;
        }
        if let Some(listing) = &document.audit {
            write_audit(listing, out)?;
        }
        Ok(())
    }
}

#[derive(Serialize)]
struct Tool {
    name: &'static str,
    version: &'static str,
}

const TOOL: Tool = Tool { name: TOOL_NAME, version: TOOL_VERSION };

fn finish(out: &mut dyn std::io::Write, value: &impl Serialize) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, value)?;
    out.write_all(b"\n")
}

fn write_coverage(document: &Document, coverage: &Coverage, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    #[derive(Serialize)]
    struct JsonReport<'r> {
        tool: Tool,
        inventory: &'r str,
        as_of: &'r str,
        summary: &'r Summary,
        #[serde(skip_serializing_if = "Option::is_none")]
        delta: Option<&'r Delta>,
        findings: &'r [Finding],
    }
    let report = JsonReport {
        tool: TOOL,
        inventory: document.inventory,
        as_of: &document.as_of,
        summary: &coverage.evaluation.summary,
        delta: coverage.delta,
        findings: &coverage.evaluation.findings,
    };
    finish(out, &report)
}

fn write_drift(document: &Document, report: &DriftReport, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    #[derive(Serialize)]
    struct Json<'r> {
        tool: Tool,
        terraform: &'r str,
        inventory: &'r str,
        as_of: &'r str,
        drift: bool,
        summary: &'r DriftSummary,
        findings: &'r [DriftItem],
    }
    let json = Json {
        tool: TOOL,
        terraform: document.terraform.unwrap_or_default(),
        inventory: document.inventory,
        as_of: &document.as_of,
        drift: report.has_drift(),
        summary: &report.summary,
        findings: &report.items,
    };
    finish(out, &json)
}

fn write_audit(listing: &AuditListing, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    #[derive(Serialize)]
    struct JsonListing<'a> {
        table: &'a str,
        region: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        since: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        resource: Option<&'a str>,
        records: &'a [AuditRecord],
    }
    let query = listing.query;
    let json = JsonListing { table: listing.table, region: listing.region, since: query.since_text(), resource: query.resource.as_deref(), records: listing.records };
    finish(out, &json)
}
