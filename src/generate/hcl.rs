//! HCL output helpers: string literals escaped by hcl-rs, object keys, the
//! `terraform fmt` alignment of `=` that hcl-rs's formatter does not do, and parse-back.

/// A quoted HCL string literal for any text: quotes, backslashes and control characters are
/// escaped, `${` becomes `$${` and `%{` becomes `%%{`, so the text lands as a literal.
///
/// Written here rather than taken from hcl-rs 0.20, whose formatter leaves the second `%{`
/// unescaped in text such as `%{$a$%{` (found by the property test in tests/generate.rs).
pub fn string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '$' | '%' if chars.peek() == Some(&'{') => {
                out.push(c);
                out.push(c);
            }
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A number as HCL writes it: integers without a fraction.
pub fn number(value: f64) -> String {
    crate::support::format_number(value)
}

/// An object key: bare where HCL allows an identifier, quoted otherwise.
pub fn key(text: &str) -> String {
    let mut chars = text.chars();
    let bare = chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && !matches!(text, "true" | "false" | "null");
    if bare {
        text.to_string()
    } else {
        string(text)
    }
}

/// A JSON value as an HCL expression laid out over lines, for `jsonencode(...)` of documents a
/// reviewer reads (EventBridge patterns, state machine definitions): objects one key per line,
/// arrays of scalars on one line, arrays holding objects or arrays one element per line.
/// `indent` is the indentation of the line the value starts on.
pub fn pretty(value: &serde_json::Value, indent: usize) -> String {
    use serde_json::Value;
    let pad = " ".repeat(indent + 2);
    match value {
        Value::Object(map) if !map.is_empty() => {
            let mut out = String::from("{\n");
            for (k, v) in map {
                out.push_str(&pad);
                out.push_str(&key(k));
                out.push_str(" = ");
                out.push_str(&pretty(v, indent + 2));
                out.push('\n');
            }
            out.push_str(&" ".repeat(indent));
            out.push('}');
            out
        }
        Value::Array(items) if items.iter().any(|v| v.is_object() || v.is_array()) => {
            let mut out = String::from("[\n");
            for item in items {
                out.push_str(&pad);
                out.push_str(&pretty(item, indent + 2));
                out.push_str(",\n");
            }
            out.push_str(&" ".repeat(indent));
            out.push(']');
            out
        }
        Value::Array(items) => format!("[{}]", items.iter().map(|v| pretty(v, indent)).collect::<Vec<_>>().join(", ")),
        Value::Object(_) => "{}".to_string(),
        Value::String(text) => string(text),
        Value::Number(n) => n.as_f64().map_or_else(|| n.to_string(), number),
        Value::Bool(b) => b.to_string(),
        Value::Null => "null".to_string(),
    }
}

/// Aligns `=` in runs of consecutive single-line attributes at the same indentation, as
/// `terraform fmt` does. A line whose value opens a multi-line expression ends a run and is
/// written `key = {` with one space; so are lines after it until the run restarts.
pub fn align(text: &str) -> String {
    struct Line<'a> {
        indent: usize,
        key: &'a str,
        value: &'a str,
    }
    fn parse(line: &str) -> Option<Line<'_>> {
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        let key_len = key_length(trimmed)?;
        let rest = trimmed[key_len..].trim_start();
        let value = rest.strip_prefix('=')?.trim_start();
        if rest.starts_with("==") || !balanced(value) {
            return None;
        }
        Some(Line { indent, key: &trimmed[..key_len], value })
    }
    let lines: Vec<&str> = text.split('\n').collect();
    let parsed: Vec<Option<Line>> = lines.iter().map(|l| parse(l)).collect();
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    let mut i = 0;
    while i < lines.len() {
        let Some(first) = &parsed[i] else {
            out.push_str(lines[i]);
            out.push('\n');
            i += 1;
            continue;
        };
        let mut end = i + 1;
        while end < lines.len() && parsed[end].as_ref().is_some_and(|l| l.indent == first.indent) {
            end += 1;
        }
        let width = parsed[i..end].iter().map(|l| l.as_ref().unwrap().key.chars().count()).max().unwrap_or(0);
        for line in parsed[i..end].iter().map(|l| l.as_ref().unwrap()) {
            let pad = width - line.key.chars().count();
            out.push_str(&" ".repeat(line.indent));
            out.push_str(line.key);
            out.push_str(&" ".repeat(pad + 1));
            out.push_str("= ");
            out.push_str(line.value);
            out.push('\n');
        }
        i = end;
    }
    out.pop();
    out
}

/// Length of a leading attribute key: an identifier or a quoted string.
fn key_length(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    if bytes.first() == Some(&b'"') {
        let mut escaped = false;
        for (index, &b) in bytes.iter().enumerate().skip(1) {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => return Some(index + 1),
                _ => {}
            }
        }
        return None;
    }
    let len = bytes.iter().take_while(|b| b.is_ascii_alphanumeric() || **b == b'_' || **b == b'-').count();
    (len > 0 && (bytes[0].is_ascii_alphabetic() || bytes[0] == b'_')).then_some(len)
}

/// Whether an expression closes every bracket it opens on this line (strings skipped).
fn balanced(value: &str) -> bool {
    if value.is_empty() || value.starts_with("<<") {
        return false;
    }
    let mut depth: i32 = 0;
    let mut in_string = false;
    let mut escaped = false;
    for c in value.chars() {
        if in_string {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '{' | '[' | '(' => depth += 1,
            '}' | ']' | ')' => depth -= 1,
            _ => {}
        }
    }
    depth == 0 && !in_string
}

/// Parses generated HCL back, so a template can never write a file Terraform cannot read.
///
/// Uses hcl-rs's parser (hcl-edit) without building hcl-rs's value tree, which nothing here
/// needs. Large files are parsed in pieces of a few megabytes, split where a top-level block
/// starts at the beginning of a line after a blank line, by one worker per core: a parse tree is
/// many times the size of its text, so this bounds memory as well as using every core. A split
/// inside a multi-line string or heredoc leaves an unterminated piece, which fails to parse:
/// splitting can reject a file, never accept a bad one.
pub fn parse_back(file: &str, text: &str) -> Result<(), String> {
    const PIECE: usize = 512 << 10;
    let parse = |piece: &str| hcl_edit::parser::parse_body(piece).map(drop).map_err(|e| format!("{file}: generated HCL does not parse: {e}"));
    if text.len() <= PIECE {
        return parse(text);
    }
    crate::support::par_map(split_top_level(text, PIECE), crate::support::workers(), parse).into_iter().collect()
}

/// Splits `text` into pieces of about `size` bytes at lines that open a top-level block.
fn split_top_level(text: &str, size: usize) -> Vec<&str> {
    const OPENERS: &[&str] = &["resource ", "data ", "variable ", "output ", "provider ", "locals ", "module ", "terraform "];
    let bytes = text.as_bytes();
    let mut pieces = Vec::new();
    let mut start = 0;
    let mut search = size;
    // Byte offsets just after a "\n\n" are always character boundaries.
    while let Some(offset) = bytes.get(search..).and_then(|rest| rest.windows(2).position(|w| w == b"\n\n")) {
        let candidate = search + offset + 2;
        if OPENERS.iter().any(|opener| bytes[candidate..].starts_with(opener.as_bytes())) {
            pieces.push(&text[start..candidate]);
            start = candidate;
            search = candidate + size;
        } else {
            search = candidate;
        }
    }
    pieces.push(&text[start..]);
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped_as_literals() {
        assert_eq!(string("plain"), "\"plain\"");
        assert_eq!(string("${var.x} %{if}"), "\"$${var.x} %%{if}\"");
        assert_eq!(string("a\"b\\c\nd"), "\"a\\\"b\\\\c\\nd\"");
        assert_eq!(string("%{$a$%{"), "\"%%{$a$%%{\"");
        assert_eq!(string("$${"), "\"$$${\"");
        assert_eq!(string("\u{7}\u{7f}é"), "\"\\u0007\\u007Fé\"");
    }

    #[test]
    fn strings_round_trip_through_the_hcl_parser() {
        use hcl::eval::Evaluate;
        for text in ["%{$a$%{", "$${x}", "%%{", "${", "\\${", "a\"b", "\u{1}\u{7f}\u{85}", "🔥中", "$", "%", "{}", "\\"] {
            let body = hcl::parse(&format!("x = {}\n", string(text))).unwrap();
            let value = body.attributes().next().unwrap().expr().evaluate(&hcl::eval::Context::new()).unwrap();
            assert_eq!(value, hcl::Value::String(text.to_string()), "{text:?}");
        }
    }

    #[test]
    fn keys_are_quoted_only_when_needed() {
        assert_eq!(key("InstanceId"), "InstanceId");
        assert_eq!(key("detail-type"), "detail-type");
        assert_eq!(key("onwatch:policy"), "\"onwatch:policy\"");
        assert_eq!(key("1abc"), "\"1abc\"");
    }

    #[test]
    fn pretty_values_parse_back_to_the_same_json() {
        use hcl::eval::Evaluate;
        let value = serde_json::json!({"a": [1, "x${y}"], "$or": [{"b": {"c": true}}, {"d": null}], "true": {}, "e": [[1], []]});
        let text = format!("x = {}\n", pretty(&value, 0));
        let body = hcl::parse(&text).unwrap();
        let parsed = body.attributes().next().unwrap().expr().evaluate(&hcl::eval::Context::new()).unwrap();
        assert_eq!(serde_json::to_value(parsed).unwrap(), value, "{text}");
        assert!(text.contains("\n  \"$or\" = [\n    {\n"), "{text}");
    }

    #[test]
    fn large_files_split_only_at_top_level_blocks() {
        let block = |n: usize| format!("resource \"a\" \"r{n}\" {{\n  x = \"{}\"\n}}\n\n", "y".repeat(100));
        let text: String = (0..100).map(block).collect();
        let pieces = split_top_level(&text, 1000);
        assert!(pieces.len() > 5);
        assert_eq!(pieces.concat(), text);
        assert!(pieces.iter().all(|p| p.starts_with("resource ")));
        // A heredoc holding what looks like a block start is not a place to split.
        let tricky = format!("{}locals {{\n  h = <<EOT\n\nresource \"no\" \"split\" {{\nEOT\n}}\n", block(0));
        let pieces = split_top_level(&tricky, 10);
        assert!(pieces.iter().all(|p| !p.starts_with("resource \"no\"")) || pieces.iter().any(|p| hcl::parse(p).is_err()));
        assert!(parse_back("x.tf", "resource \"a\" \"b\" {\n").is_err());
        // A large file with one broken block in the middle is rejected.
        let mut large: String = (0..40_000).map(block).collect();
        assert!(large.len() > 4 << 20);
        assert!(parse_back("large.tf", &large).is_ok());
        large.insert_str(large.len() / 2, "resource \"broken\" {\n\n");
        assert!(parse_back("large.tf", &large).is_err());
    }

    #[test]
    fn alignment_follows_terraform_fmt() {
        let input = "resource \"x\" \"y\" {\n  a = 1\n  long_name = \"x = y\"\n  m = {\n    k = 1\n    longer = \"}\"\n  }\n  t = 2\n  tt = [1, 2]\n\n  b {\n    c = 1\n  }\n}\n";
        let expected = "resource \"x\" \"y\" {\n  a         = 1\n  long_name = \"x = y\"\n  m = {\n    k      = 1\n    longer = \"}\"\n  }\n  t  = 2\n  tt = [1, 2]\n\n  b {\n    c = 1\n  }\n}\n";
        assert_eq!(align(input), expected);
    }
}
