//! The handlebars templates under `templates/` (built in, overridable with `--templates DIR`).
//! Strict mode is on, and the escape function writes HCL string literals instead of HTML, so
//! `{{value}}` is always a safe, quoted literal. What is written unquoted goes through a helper
//! that checks or escapes it: `{{id x}}` a Terraform identifier or reference (the contexts hold
//! `model::names` types there, and the helper refuses anything else), `{{hcl x}}` numbers and
//! other JSON values, `{{hcl_key x}}` an object key, `{{hcl_pretty x N}}` a JSON document as a
//! multi-line HCL object. The built-in templates use `{{{...}}}` only to place a block list.
//! Every rendered file is aligned the way `terraform fmt` does and parsed back with hcl-rs
//! before it is returned.

use std::{fs, path::Path};

use handlebars::{Context, Handlebars, Helper, HelperResult, Output, RenderContext, RenderErrorReason};
use serde::Serialize;
use serde_json::Value;

use super::{hcl, GeneratedFile, HEADER};
use crate::{
    embedded,
    error::{Error, Result},
    model::names,
    support::Progress,
};

/// Alarm blocks rendered between two reports to the progress observer.
const PROGRESS_BATCH: usize = 256;

/// File templates (`*.tf.hbs`, `*.json.hbs`, ...) render one output file each; block templates
/// (`alarm.hbs`) render one block per item, which a file template places with `{{{...}}}`.
/// Blocks are rendered item by item: a large account's alarms as one template context would
/// take gigabytes.
pub struct Templates {
    registry: Handlebars<'static>,
    /// File templates, by name, sorted.
    outputs: Vec<String>,
}

/// A file template's name has a file extension before `.hbs`.
fn is_file_template(name: &str) -> bool {
    name.strip_suffix(".hbs").is_some_and(|stem| stem.contains('.'))
}

/// `{{hcl value}}`: any JSON value as an HCL literal (strings escaped, numbers bare, lists inline).
fn hcl_helper(h: &Helper, _: &Handlebars, _: &Context, _: &mut RenderContext, out: &mut dyn Output) -> HelperResult {
    let value = h.param(0).ok_or(RenderErrorReason::ParamNotFoundForIndex("hcl", 0))?.value();
    out.write(&literal(value))?;
    Ok(())
}

/// The text of string parameter `index` of a helper.
fn string_param<'a>(h: &'a Helper, name: &'static str, index: usize) -> std::result::Result<&'a str, RenderErrorReason> {
    let value = h.param(index).ok_or(RenderErrorReason::ParamNotFoundForIndex(name, index))?.value();
    value.as_str().ok_or_else(|| RenderErrorReason::Other(format!("{{{{{name}}}}} takes a string, not {value}")))
}

/// `{{id value}}`: a Terraform identifier or a reference of identifiers joined by `.`, unquoted.
/// Anything else is an error, so no value can become HCL syntax through a label or reference.
fn id_helper(h: &Helper, _: &Handlebars, _: &Context, _: &mut RenderContext, out: &mut dyn Output) -> HelperResult {
    let text = string_param(h, "id", 0)?;
    if !names::is_reference(text) {
        return Err(RenderErrorReason::Other(format!("{text:?} is not a Terraform identifier or reference")).into());
    }
    out.write(text)?;
    Ok(())
}

/// `{{hcl_key key}}`: an object key, bare where HCL allows, quoted and escaped otherwise.
fn key_helper(h: &Helper, _: &Handlebars, _: &Context, _: &mut RenderContext, out: &mut dyn Output) -> HelperResult {
    out.write(&hcl::key(string_param(h, "hcl_key", 0)?))?;
    Ok(())
}

/// `{{hcl_pretty value indent}}`: a JSON document as a multi-line HCL expression, for
/// `jsonencode(...)`; `indent` is the indentation of the line it starts on.
fn pretty_helper(h: &Helper, _: &Handlebars, _: &Context, _: &mut RenderContext, out: &mut dyn Output) -> HelperResult {
    let value = h.param(0).ok_or(RenderErrorReason::ParamNotFoundForIndex("hcl_pretty", 0))?.value();
    let indent = h.param(1).and_then(|p| p.value().as_u64()).ok_or(RenderErrorReason::ParamNotFoundForIndex("hcl_pretty", 1))?;
    out.write(&hcl::pretty(value, indent as usize))?;
    Ok(())
}

/// `{{comment value}}`: text for a `#` comment, with line breaks and other control characters
/// replaced, so a value from AWS cannot end the comment and write HCL of its own.
fn comment_helper(h: &Helper, _: &Handlebars, _: &Context, _: &mut RenderContext, out: &mut dyn Output) -> HelperResult {
    let value = h.param(0).ok_or(RenderErrorReason::ParamNotFoundForIndex("comment", 0))?.value();
    let text = match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    };
    out.write(&comment_text(&text))?;
    Ok(())
}

fn comment_text(text: &str) -> String {
    text.chars().map(|c| if c.is_control() || c == '\u{2028}' || c == '\u{2029}' { ' ' } else { c }).collect()
}

fn literal(value: &Value) -> String {
    match value {
        Value::Null => "null".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.as_f64().map_or_else(|| n.to_string(), hcl::number),
        Value::String(s) => hcl::string(s),
        Value::Array(items) => format!("[{}]", items.iter().map(literal).collect::<Vec<_>>().join(", ")),
        Value::Object(map) => {
            let items: Vec<String> = map.iter().map(|(k, v)| format!("{} = {}", hcl::key(k), literal(v))).collect();
            if items.is_empty() {
                "{}".to_string()
            } else {
                format!("{{ {} }}", items.join(", "))
            }
        }
    }
}

impl Templates {
    /// How many files [`Templates::render`] writes.
    pub fn file_count(&self) -> usize {
        self.outputs.len()
    }

    /// The built-in templates, with any `*.hbs` in `dir` replacing a built-in of the same name or adding a file.
    pub fn load(dir: Option<&Path>) -> Result<Self> {
        let mut registry = Handlebars::new();
        registry.set_strict_mode(true);
        registry.register_escape_fn(hcl::string);
        registry.register_helper("hcl", Box::new(hcl_helper));
        registry.register_helper("comment", Box::new(comment_helper));
        registry.register_helper("id", Box::new(id_helper));
        registry.register_helper("hcl_key", Box::new(key_helper));
        registry.register_helper("hcl_pretty", Box::new(pretty_helper));
        let mut sources: Vec<(String, String, String)> = embedded::TEMPLATES
            .iter()
            .filter(|(name, _)| name.ends_with(".hbs"))
            .map(|(name, text)| (name.to_string(), format!("<built-in>/templates/{name}"), text.to_string()))
            .collect();
        if let Some(dir) = dir {
            let entries = fs::read_dir(dir).map_err(|source| Error::Read { path: dir.to_path_buf(), source })?;
            for entry in entries {
                let path = entry.map_err(|source| Error::Read { path: dir.to_path_buf(), source })?.path();
                let Some(name) = path.file_name().and_then(|n| n.to_str()).filter(|n| n.ends_with(".hbs")) else {
                    continue;
                };
                let text = fs::read_to_string(&path).map_err(|source| Error::Read { path: path.clone(), source })?;
                sources.retain(|(existing, _, _)| existing != name);
                sources.push((name.to_string(), path.display().to_string(), text));
            }
        }
        let mut outputs = Vec::new();
        for (name, origin, text) in sources {
            registry
                .register_template_string(&name, text)
                .map_err(|e| Error::Generate(format!("{origin}: template does not compile: {e}")))?;
            if is_file_template(&name) {
                outputs.push(name);
            }
        }
        outputs.sort();
        Ok(Templates { registry, outputs })
    }

    /// Renders block template `name` once per item, on one thread per core, in item order, as
    /// a [`BlockList`] that [`Templates::render`] places into a file. Each share of items is
    /// dropped once rendered, so the items and their text are not all held at once.
    pub fn render_blocks<T: Serialize + Send>(&self, name: &str, items: Vec<T>, progress: &dyn Progress) -> Result<BlockList> {
        let render_share = |share: &[T]| -> Result<String> {
            let mut out = String::new();
            for (index, item) in share.iter().enumerate() {
                // Told in batches: a bar needs no more, and each item is only microseconds of work.
                if index % PROGRESS_BATCH == 0 {
                    progress.advance(share.len().saturating_sub(index).min(PROGRESS_BATCH) as u64);
                }
                let context = Context::wraps(item).map_err(|e| Error::Generate(format!("template {name}: {e}")))?;
                let block = self.registry.render_with_context(name, &context).map_err(|e| Error::Generate(format!("template {name}: {e}")))?;
                if !out.is_empty() {
                    out.push('\n');
                }
                tidy_into(&mut out, &block);
            }
            Ok(out)
        };
        // Several shares a thread, so that placing the list frees the shares one by one while
        // the file grows (peak memory about the file plus one share, not the file twice).
        let threads = crate::support::workers();
        if items.len() < 1024 || threads == 1 {
            return Ok(BlockList { shares: vec![render_share(&items)?] });
        }
        let share = items.len().div_ceil(threads * SHARES_PER_THREAD);
        let mut items = items.into_iter();
        let shares: Vec<Vec<T>> = std::iter::from_fn(|| Some(items.by_ref().take(share).collect::<Vec<T>>()).filter(|next| !next.is_empty())).collect();
        // Each share is freed as soon as it is rendered.
        let rendered = crate::support::par_map(shares, threads, |share| render_share(&share));
        Ok(BlockList { shares: rendered.into_iter().collect::<Result<_>>()? })
    }

    /// Renders every file template to its file (`alarms.tf.hbs` → `alarms.tf`), each on its own
    /// thread. `blocks` are pre-rendered, tidied block lists: a template places one with
    /// `{{{name}}}`, and the text is moved in after rendering rather than copied through the
    /// template context (on large accounts it is hundreds of megabytes).
    pub fn render(&self, context: impl Serialize, blocks: Vec<(&str, BlockList)>, progress: &dyn Progress) -> Result<Vec<GeneratedFile>> {
        // Converted to a template context once, not once per template; the typed context is
        // dropped before rendering, since on large accounts it is hundreds of megabytes.
        let mut value = serde_json::to_value(&context).map_err(|e| Error::Generate(format!("template context: {e}")))?;
        drop(context);
        for (name, _) in &blocks {
            value[*name] = Value::String(block_marker(name));
        }
        // Taken by the one file that places each list; a list placed by no file is dropped unused.
        let blocks: Vec<(&str, std::sync::Mutex<Option<BlockList>>)> = blocks.into_iter().map(|(name, list)| (name, std::sync::Mutex::new(Some(list)))).collect();
        let context = Context::wraps(value).map_err(|e| Error::Generate(format!("template context: {e}")))?;
        let render_one = |name: &String| -> Result<GeneratedFile> {
            let rendered =
                self.registry.render_with_context(name, &context).map_err(|e| Error::Generate(format!("template {name}: {e}")))?;
            let path = name.trim_end_matches(".hbs").to_string();
            let mut contents = tidy(HEADER, &rendered);
            drop(rendered);
            for (list_name, list) in &blocks {
                let marker = block_marker(list_name);
                if let Some(at) = contents.find(&marker) {
                    let Some(list) = list.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take() else {
                        return Err(Error::Generate(format!("template {name}: the block list {list_name} is placed by another file too: place it once")));
                    };
                    // The marker stands on its own line; the block text brings its own newlines.
                    let end = at + marker.len() + usize::from(contents[at + marker.len()..].starts_with('\n'));
                    contents = list.placed(&contents[..at], &contents[end..]);
                }
            }
            // Only a template can write a NUL (every value is escaped, every identifier checked):
            // one left over is a block list placed twice or escaped, never data.
            if contents.contains(BLOCK_MARK) {
                return Err(Error::Generate(format!("template {name}: a block list must be placed once, with {{{{{{name}}}}}}")));
            }
            if path.ends_with(".tf") {
                hcl::parse_back(&path, &contents).map_err(Error::Generate)?;
            }
            progress.advance(1);
            Ok(GeneratedFile { path, contents })
        };
        std::thread::scope(|scope| {
            let handles: Vec<_> = self.outputs.iter().map(|name| scope.spawn(move || render_one(name))).collect();
            handles.into_iter().map(|handle| handle.join().expect("template threads do not panic")).collect()
        })
    }
}

/// Shares of a block list each thread renders (see [`Templates::render_blocks`]).
const SHARES_PER_THREAD: usize = 8;

/// Blocks rendered from a block template, in order, as the shares the threads rendered.
pub struct BlockList {
    shares: Vec<String>,
}

impl BlockList {
    /// `before`, the blocks (shares joined by a blank line) and `after`, with each share freed
    /// as soon as it is copied.
    fn placed(self, before: &str, after: &str) -> String {
        let length = before.len() + after.len() + self.shares.iter().map(|s| s.len() + 1).sum::<usize>();
        let mut out = String::with_capacity(length);
        out.push_str(before);
        for (index, share) in self.shares.into_iter().filter(|share| !share.is_empty()).enumerate() {
            if index > 0 {
                out.push('\n');
            }
            out.push_str(&share);
        }
        out.push_str(after);
        out
    }
}

/// Delimits the marker of a block list. No value can carry it into a rendered file: escaped
/// literals write control characters as `\u0000`, comments replace them, and `{{id}}` takes
/// identifiers only; so the marker a template places cannot be forged or moved by data.
const BLOCK_MARK: char = '\0';

/// What a file template renders where a block list goes, replaced by the blocks afterwards.
fn block_marker(name: &str) -> String {
    format!("{BLOCK_MARK}onwatch-blocks:{name}{BLOCK_MARK}")
}

/// `header`, a blank line, then `body` with `terraform fmt` alignment, no trailing spaces, at
/// most one blank line in a row, no blank line right after an opening or before a closing
/// bracket, and one final newline.
pub(super) fn tidy(header: &str, body: &str) -> String {
    let mut out = String::with_capacity(header.len() + body.len() + body.len() / 8);
    out.push_str(header);
    out.push_str("\n\n");
    tidy_into(&mut out, body);
    out
}

/// Appends `body`, tidied as [`tidy`] describes, to `out`.
fn tidy_into(out: &mut String, body: &str) {
    let aligned = hcl::align(body);
    let mut pending_blank = false;
    let mut previous_opens = true;
    for line in aligned.lines().map(str::trim_end) {
        if line.is_empty() {
            pending_blank = !previous_opens;
            continue;
        }
        let closes = matches!(line.trim_start().as_bytes().first(), Some(b'}' | b']' | b')'));
        if pending_blank && !closes {
            out.push('\n');
        }
        pending_blank = false;
        previous_opens = line.ends_with(['{', '[', '(']);
        out.push_str(line);
        out.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tidy_collapses_blank_lines() {
        assert_eq!(tidy("# h", "\n\na {\n\n  b = 1  \n\n\n  c = 2\n\n}\n\n"), "# h\n\na {\n  b = 1\n\n  c = 2\n}\n");
    }

    #[test]
    fn file_and_block_templates_are_told_apart() {
        assert!(is_file_template("alarms.tf.hbs") && is_file_template("onwatch.json.hbs"));
        assert!(!is_file_template("alarm.hbs"));
    }

    #[test]
    fn comments_cannot_be_ended_by_their_text() {
        assert_eq!(comment_text("a\nresource \"x\" \"y\" {}\r\u{2028}b"), "a resource \"x\" \"y\" {}  b");
    }

    #[test]
    fn literals_cover_every_json_type() {
        let value = serde_json::json!({"a": [1, 2.5, "x${y}"], "b c": true, "n": null});
        assert_eq!(literal(&value), "{ a = [1, 2.5, \"x$${y}\"], \"b c\" = true, n = null }");
    }
}
