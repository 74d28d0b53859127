//! The adapter between aws-sdk-dynamodb and the audit reader: reads the table's items as
//! [`Item`]s. A query by an alarm's ARN uses the partition key when it holds the alarm; every
//! other listing is a scan with the time bound as a filter. Any failed call becomes an
//! [`Error::Audit`] naming the operation and region.

use std::collections::HashMap;

use aws_sdk_dynamodb::{types::AttributeValue, Client};

use super::{Item, Query};
use crate::{
    config::{AuditLogSchemaFile, RecordField},
    error::{Error, Result},
    scan::CallLog,
};

/// Largest page DynamoDB returns is 1 MB; this bounds items per call instead.
const PAGE_SIZE: i32 = 1000;
/// Pages one listing reads at most, unless told otherwise (`audit list --max-pages`): ten
/// million records at [`PAGE_SIZE`], and a stop for a table that hands out new keys for ever.
pub const DEFAULT_MAX_PAGES: u32 = 10_000;

/// The audit table's client, recording its calls like the scanner's and bounding responses.
pub fn client(config: &aws_config::SdkConfig, calls: &CallLog) -> Client {
    let builder = aws_sdk_dynamodb::config::Builder::from(config).interceptor(calls.interceptor());
    Client::from_conf(builder.interceptor(crate::scan::net::ResponseLimit::default()).build())
}

/// One page of a Scan or a Query, as both return it.
struct Page {
    items: Option<Vec<HashMap<String, AttributeValue>>>,
    count: i32,
    last_evaluated_key: Option<HashMap<String, AttributeValue>>,
}

/// Reads the items that may match `query` (the time bound and an alarm key are applied by
/// DynamoDB; [`super::select`] applies the whole query), at most `max_pages` pages. A page that
/// is not a DynamoDB answer (no `Items`), a `LastEvaluatedKey` handed out twice, and a listing
/// past `max_pages` fail the listing: a broken listing is never shown as complete.
pub async fn read(client: &Client, table: &str, region: &str, schema: &AuditLogSchemaFile, query: &Query, max_pages: u32) -> Result<Vec<Item>> {
    let attribute = |wanted: RecordField| schema.record_attributes().into_iter().find(|(_, field)| *field == wanted).map(|(name, _)| name);
    let mut names: HashMap<String, String> = HashMap::new();
    let mut values: HashMap<String, AttributeValue> = HashMap::new();
    let mut filter = None;
    if let (Some(since), Some(time)) = (query.since_text(), attribute(RecordField::Time)) {
        names.insert("#time".into(), time);
        values.insert(":since".into(), AttributeValue::S(since));
        filter = Some("#time >= :since".to_string());
    }
    let by_alarm = query.resource.as_deref().filter(|arn| arn.contains(":alarm:")).filter(|_| schema.partition_key.value == RecordField::Alarm);
    let failed = |action: &str, message: String| Error::Audit { region: region.to_string(), action: action.to_string(), message };
    let mut items = Vec::new();
    let mut keys = crate::scan::aws::Tokens::new("LastEvaluatedKey", max_pages as usize);
    let mut start: Option<HashMap<String, AttributeValue>> = None;
    let action = if by_alarm.is_some() { "dynamodb:Query" } else { "dynamodb:Scan" };
    if let Some(arn) = by_alarm {
        names.insert("#alarm".into(), schema.partition_key.name.clone());
        values.insert(":alarm".into(), AttributeValue::S(arn.to_string()));
    }
    loop {
        let page = if by_alarm.is_some() {
            let sent = client
                .query()
                .table_name(table)
                .key_condition_expression("#alarm = :alarm")
                .set_filter_expression(filter.clone())
                .set_expression_attribute_names(Some(names.clone()))
                .set_expression_attribute_values(Some(values.clone()))
                .set_exclusive_start_key(start.take())
                .limit(PAGE_SIZE)
                .send()
                .await;
            let page = sent.map_err(|e| failed(action, crate::scan::aws::describe_error(action, e)))?;
            Page { items: page.items, count: page.count, last_evaluated_key: page.last_evaluated_key }
        } else {
            let sent = client
                .scan()
                .table_name(table)
                .set_filter_expression(filter.clone())
                .set_expression_attribute_names((!names.is_empty()).then(|| names.clone()))
                .set_expression_attribute_values((!values.is_empty()).then(|| values.clone()))
                .set_exclusive_start_key(start.take())
                .limit(PAGE_SIZE)
                .send()
                .await;
            let page = sent.map_err(|e| failed(action, crate::scan::aws::describe_error(action, e)))?;
            Page { items: page.items, count: page.count, last_evaluated_key: page.last_evaluated_key }
        };
        let page_items = page.items.ok_or_else(|| {
            failed(action, format!("page {} holds no Items: the endpoint answered with an empty or foreign body, not a DynamoDB listing", keys.pages() + 1))
        })?;
        if usize::try_from(page.count).ok() != Some(page_items.len()) {
            let message = format!("page {} says Count {} but holds {} items: not a DynamoDB listing", keys.pages() + 1, page.count, page_items.len());
            return Err(failed(action, message));
        }
        items.extend(page_items.iter().map(text_item));
        let next = page.last_evaluated_key.filter(|key| !key.is_empty());
        keys.page(next.as_ref().map(key_text).as_deref()).map_err(|message| failed(action, message))?;
        match next {
            Some(key) => start = Some(key),
            None => return Ok(items),
        }
    }
}

/// A key as canonical text (attributes in name order), to tell keys apart.
fn key_text(key: &HashMap<String, AttributeValue>) -> String {
    let sorted: std::collections::BTreeMap<&String, &AttributeValue> = key.iter().collect();
    format!("{sorted:?}")
}

/// String and number attributes as text; the pipeline writes no others.
fn text_item(item: &HashMap<String, AttributeValue>) -> Item {
    item.iter()
        .filter_map(|(name, value)| match value {
            AttributeValue::S(text) | AttributeValue::N(text) => Some((name.clone(), text.clone())),
            _ => None,
        })
        .collect()
}
