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

/// The audit table's client, recording its calls like the scanner's.
pub fn client(config: &aws_config::SdkConfig, calls: &CallLog) -> Client {
    Client::from_conf(aws_sdk_dynamodb::config::Builder::from(config).interceptor(calls.interceptor()).build())
}

/// Reads the items that may match `query` (the time bound and an alarm key are applied by
/// DynamoDB; [`super::select`] applies the whole query).
pub async fn read(client: &Client, table: &str, region: &str, schema: &AuditLogSchemaFile, query: &Query) -> Result<Vec<Item>> {
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
    if let Some(arn) = by_alarm {
        const ACTION: &str = "dynamodb:Query";
        names.insert("#alarm".into(), schema.partition_key.name.clone());
        values.insert(":alarm".into(), AttributeValue::S(arn.to_string()));
        let mut pages = client
            .query()
            .table_name(table)
            .key_condition_expression("#alarm = :alarm")
            .set_filter_expression(filter)
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(Some(values))
            .limit(PAGE_SIZE)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| failed(ACTION, crate::scan::aws::describe_error(ACTION, e)))?;
            items.extend(page.items().iter().map(text_item));
        }
    } else {
        const ACTION: &str = "dynamodb:Scan";
        let mut pages = client
            .scan()
            .table_name(table)
            .set_filter_expression(filter)
            .set_expression_attribute_names((!names.is_empty()).then_some(names))
            .set_expression_attribute_values((!values.is_empty()).then_some(values))
            .limit(PAGE_SIZE)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| failed(ACTION, crate::scan::aws::describe_error(ACTION, e)))?;
            items.extend(page.items().iter().map(text_item));
        }
    }
    Ok(items)
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
