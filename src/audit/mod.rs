//! Reading the audit trail: `onwatch audit list`. The records are read from the DynamoDB table
//! that the generated pipeline writes ([`dynamodb`], the only module here that sees SDK types);
//! turning items into records, filtering and ordering are pure functions over [`Item`]s, driven
//! by the attribute layout in `config/audit_log_schema.json`. The listing is printed by
//! `report` (its audit section).

pub mod dynamodb;

use std::collections::BTreeMap;

use serde::Serialize;
use time::{format_description::well_known::Rfc3339, Duration, OffsetDateTime};

use crate::{
    config::{AuditLogSchemaFile, RecordField},
    error::{Error, Result},
};

/// One DynamoDB item, its string and number attributes as text.
pub type Item = BTreeMap<String, String>;

/// One audit record, by what each attribute holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AuditRecord {
    pub time: String,
    pub kind: String,
    pub alarm: String,
    pub resource: String,
    pub old_state: String,
    pub new_state: String,
    pub reason: String,
    pub account: String,
    pub region: String,
    pub event_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
}

impl AuditRecord {
    /// Reads an item through the schema's attribute layout; attributes the schema does not hold
    /// stay empty.
    pub fn from_item(item: &Item, schema: &AuditLogSchemaFile) -> Self {
        let mut record = AuditRecord::default();
        for (name, field) in schema.record_attributes() {
            let Some(value) = item.get(&name).cloned() else { continue };
            match field {
                RecordField::Alarm => record.alarm = value,
                RecordField::EventId => record.event_id = value,
                RecordField::Time => record.time = value,
                RecordField::Kind => record.kind = value,
                RecordField::Resource => record.resource = value,
                RecordField::OldState => record.old_state = value,
                RecordField::NewState => record.new_state = value,
                RecordField::Reason => record.reason = value,
                RecordField::Account => record.account = value,
                RecordField::Region => record.region = value,
                RecordField::ExpiresAt => record.expires_at = value.parse().ok(),
            }
        }
        record
    }
}

/// What to list.
#[derive(Debug, Clone, Default)]
pub struct Query {
    /// Records at or after this time.
    pub since: Option<OffsetDateTime>,
    /// Records whose alarm or resource is this ARN.
    pub resource: Option<String>,
}

impl Query {
    /// The `since` bound as the table stores times (RFC 3339, UTC, to the second), which sort
    /// as text.
    pub fn since_text(&self) -> Option<String> {
        self.since.map(|at| at.replace_nanosecond(0).expect("zero nanoseconds").format(&Rfc3339).expect("RFC 3339 formats every date"))
    }

    pub fn matches(&self, record: &AuditRecord) -> bool {
        let recent = self.since_text().is_none_or(|since| record.time >= since);
        let about = self.resource.as_deref().is_none_or(|arn| record.alarm == arn || record.resource == arn);
        recent && about
    }
}

/// The records that match, oldest first (then by event id, so the order is total).
pub fn select(items: &[Item], schema: &AuditLogSchemaFile, query: &Query) -> Vec<AuditRecord> {
    let mut records: Vec<AuditRecord> =
        items.iter().map(|item| AuditRecord::from_item(item, schema)).filter(|record| query.matches(record)).collect();
    records.sort_by(|a, b| (&a.time, &a.event_id).cmp(&(&b.time, &b.event_id)));
    records
}

/// Where the table is and how to reach it.
#[derive(Debug, Clone, Default)]
pub struct ListOptions {
    /// Region, profile and endpoint, as for a scan (only the first region is used).
    pub aws: crate::scan::ScanOptions,
    /// The table [default: `table_name` of the audit schema].
    pub table: Option<String>,
    pub query: Query,
    /// Pages read at most [default: [`dynamodb::DEFAULT_MAX_PAGES`]].
    pub max_pages: Option<u32>,
}

/// What `audit list` found, and where.
#[derive(Debug)]
pub struct Listing {
    pub table: String,
    pub region: String,
    pub records: Vec<AuditRecord>,
    pub calls: crate::scan::CallLog,
}

/// Reads the matching records. Blocks; builds its own runtime.
pub fn list(options: &ListOptions, schema: &AuditLogSchemaFile) -> Result<Listing> {
    if let Some(region) = options.aws.regions.iter().find(|r| !crate::scan::is_region_name(r)) {
        return Err(Error::Usage(format!("--region {region:?} is not an AWS region name (such as eu-west-1)")));
    }
    let table = options.table.clone().unwrap_or_else(|| schema.table_name.clone());
    crate::scan::runtime()?.block_on(async {
        let mut aws = options.aws.clone();
        if aws.regions.is_empty() {
            aws.regions.extend(schema.region.clone());
        }
        let config = crate::scan::base_config(&aws).await;
        let region = config.region().map(|r| r.to_string()).ok_or_else(|| {
            Error::Usage("no region for the audit table: pass --region, set region in config/audit_log_schema.json, or set AWS_REGION".into())
        })?;
        let calls = crate::scan::CallLog::new();
        let client = dynamodb::client(&config, &calls);
        let max_pages = options.max_pages.unwrap_or(dynamodb::DEFAULT_MAX_PAGES);
        let items = dynamodb::read(&client, &table, &region, schema, &options.query, max_pages).await?;
        let records = select(&items, schema, &options.query);
        Ok(Listing { table, region, records, calls })
    })
}

/// `30m`, `24h`, `7d`, `2w` (also `s`): a span back from now.
pub fn parse_duration(text: &str) -> Result<Duration> {
    let bad = || Error::Usage(format!("--since {text:?} is not a duration such as 30m, 24h, 7d or 2w"));
    let text = text.trim();
    let unit = text.chars().last().ok_or_else(bad)?;
    let amount: i64 = text[..text.len() - unit.len_utf8()].parse().map_err(|_| bad())?;
    if amount < 0 {
        return Err(bad());
    }
    let seconds = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3_600,
        'd' => 86_400,
        'w' => 604_800,
        _ => return Err(bad()),
    };
    amount.checked_mul(seconds).map(Duration::seconds).ok_or_else(bad)
}

/// The time `--since TEXT` names, back from `now`: a usage error for a span that reaches before
/// the year 0 (which neither the clock nor the table's RFC 3339 times can hold), never a panic.
pub fn since(text: &str, now: OffsetDateTime) -> Result<OffsetDateTime> {
    let span = parse_duration(text)?;
    now.checked_sub(span)
        .filter(|at| at.year() >= 0)
        .ok_or_else(|| Error::Usage(format!("--since {text:?} reaches back before the year 0; give a shorter span, such as 52w")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema() -> AuditLogSchemaFile {
        let text = crate::embedded::CONFIG.iter().find(|(name, _)| *name == "audit_log_schema.json").unwrap().1;
        crate::json::parse_validated("audit_log_schema.json", text).unwrap()
    }

    fn item(alarm: &str, id: &str, time: &str, resource: &str) -> Item {
        [("alarm_arn", alarm), ("event_id", id), ("event_time", time), ("resource", resource), ("new_state", "ALARM"), ("expires_at", "1800000000")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30m").unwrap(), Duration::minutes(30));
        assert_eq!(parse_duration("24h").unwrap(), Duration::hours(24));
        assert_eq!(parse_duration("7d").unwrap(), Duration::days(7));
        assert_eq!(parse_duration("2w").unwrap(), Duration::weeks(2));
        for bad in ["", "h", "3", "-1d", "1y", "1.5h", "99999999999999999w"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    /// Issue 15, defect 9: spans that overflow the clock were a panic ("resulting value is out of range").
    #[test]
    fn since_out_of_range_is_a_usage_error_naming_the_flag() {
        let now = OffsetDateTime::now_utc();
        for text in ["100000000w", "9223372036854775807s", "1000000w", "153722867280912930m"] {
            match since(text, now) {
                Err(Error::Usage(message)) => assert!(message.starts_with(&format!("--since {text:?}")), "{message}"),
                other => panic!("{text}: {other:?}"),
            }
        }
        let year_ago = since("52w", now).unwrap();
        assert_eq!(now - year_ago, Duration::weeks(52));
        assert!(Query { since: Some(year_ago), resource: None }.since_text().is_some());
    }

    proptest::proptest! {
        /// Whatever `--since` says, it is a time the table's filter can hold, or a usage error.
        #[test]
        fn since_never_panics(text in proptest::prop_oneof![".*", "[+-]?[0-9]{0,22}[smhdwy\u{e9}]?"]) {
            let now = OffsetDateTime::now_utc();
            match since(&text, now) {
                Ok(at) => {
                    proptest::prop_assert!(at <= now);
                    let bound = Query { since: Some(at), resource: None }.since_text();
                    proptest::prop_assert!(bound.is_some());
                }
                Err(error) => proptest::prop_assert!(matches!(error, Error::Usage(ref m) if m.starts_with("--since ")), "{error}"),
            }
        }
    }

    #[test]
    fn records_are_read_through_the_schema_filtered_and_ordered() {
        let items = vec![
            item("arn:aws:cloudwatch:us-east-1:1:alarm:b", "2", "2026-11-25T10:00:00Z", "arn:aws:sqs:us-east-1:1:q"),
            item("arn:aws:cloudwatch:us-east-1:1:alarm:a", "1", "2026-11-24T10:00:00Z", "arn:aws:ec2:us-east-1:1:instance/i-1"),
            item("arn:aws:cloudwatch:us-east-1:1:alarm:a", "3", "2026-11-25T09:00:00Z", "arn:aws:ec2:us-east-1:1:instance/i-1"),
        ];
        let all = select(&items, &schema(), &Query::default());
        assert_eq!(all.iter().map(|r| r.event_id.as_str()).collect::<Vec<_>>(), ["1", "3", "2"]);
        assert_eq!(all[0].expires_at, Some(1_800_000_000));
        let since = OffsetDateTime::parse("2026-11-25T00:00:00Z", &Rfc3339).unwrap();
        let recent = select(&items, &schema(), &Query { since: Some(since), resource: None });
        assert_eq!(recent.len(), 2);
        let about = Query { since: None, resource: Some("arn:aws:ec2:us-east-1:1:instance/i-1".into()) };
        assert_eq!(select(&items, &schema(), &about).len(), 2, "by resource");
        let by_alarm = Query { since: None, resource: Some("arn:aws:cloudwatch:us-east-1:1:alarm:b".into()) };
        assert_eq!(select(&items, &schema(), &by_alarm).len(), 1, "by alarm");
    }
}
