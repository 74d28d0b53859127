//! Slack and Microsoft Teams delivery without function code: an EventBridge rule on alarm
//! state changes targets an API destination (the incoming-webhook URL), and an input
//! transformer builds the message body from the event.
//!
//! EventBridge does not escape values it substitutes into a template, so a placeholder inside
//! quotes breaks the JSON as soon as an alarm name or reason holds a quote. Every placeholder
//! below therefore stands alone as a JSON value, outside quotes, where EventBridge inserts the
//! value as JSON: the message is valid whatever the event holds.

/// Values the input transformer extracts from a "CloudWatch Alarm State Change" event.
pub const INPUT_PATHS: &[(&str, &str)] = &[
    ("account", "$.account"),
    ("alarm", "$.detail.alarmName"),
    ("previous", "$.detail.previousState.value"),
    ("reason", "$.detail.state.reason"),
    ("region", "$.region"),
    ("state", "$.detail.state.value"),
    ("time", "$.time"),
];

/// Slack incoming webhooks take `text` (the notification fallback) and Block Kit `blocks`.
pub const SLACK_TEMPLATE: &str = r#"{"text": <alarm>, "blocks": [{"type": "section", "text": {"type": "plain_text", "text": <alarm>}}, {"type": "section", "text": {"type": "plain_text", "text": <reason>}}, {"type": "section", "fields": [{"type": "mrkdwn", "text": "*State*"}, {"type": "plain_text", "text": <state>}, {"type": "mrkdwn", "text": "*Previous*"}, {"type": "plain_text", "text": <previous>}, {"type": "mrkdwn", "text": "*Account*"}, {"type": "plain_text", "text": <account>}, {"type": "mrkdwn", "text": "*Region*"}, {"type": "plain_text", "text": <region>}, {"type": "mrkdwn", "text": "*Time*"}, {"type": "plain_text", "text": <time>}]}]}"#;

/// Teams incoming webhooks (Workflows) take a message whose attachment is an Adaptive Card.
pub const TEAMS_TEMPLATE: &str = r#"{"type": "message", "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive", "content": {"$schema": "http://adaptivecards.io/schemas/adaptive-card.json", "type": "AdaptiveCard", "version": "1.4", "body": [{"type": "TextBlock", "size": "Medium", "weight": "Bolder", "wrap": true, "text": <alarm>}, {"type": "TextBlock", "wrap": true, "text": <reason>}, {"type": "FactSet", "facts": [{"title": "State", "value": <state>}, {"title": "Previous", "value": <previous>}, {"title": "Account", "value": <account>}, {"title": "Region", "value": <region>}, {"title": "Time", "value": <time>}]}]}}]}"#;
