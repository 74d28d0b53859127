//! The handlebars templates under `templates/` (built in, overridable with `--templates DIR`).
//! Strict mode is on, and the escape function writes HCL string literals instead of HTML, so
//! `{{value}}` is always a safe, quoted literal; `{{{value}}}` is for references and numbers
//! onwatch computes itself. Every rendered file is aligned the way `terraform fmt` does and
//! parsed back with hcl-rs before it is returned.

use std::{fs, path::Path};

use handlebars::{Context, Handlebars, Helper, HelperResult, Output, RenderContext, RenderErrorReason};
use serde::Serialize;
use serde_json::Value;

use super::{hcl, GeneratedFile, HEADER};
use crate::{
    embedded,
    error::{Error, Result},
};

pub struct Templates {
    registry: Handlebars<'static>,
    /// Output file name and template name, sorted.
    outputs: Vec<String>,
}

/// `{{hcl value}}`: any JSON value as an HCL literal (strings escaped, numbers bare, lists inline).
fn hcl_helper(h: &Helper, _: &Handlebars, _: &Context, _: &mut RenderContext, out: &mut dyn Output) -> HelperResult {
    let value = h.param(0).ok_or(RenderErrorReason::ParamNotFoundForIndex("hcl", 0))?.value();
    out.write(&literal(value))?;
    Ok(())
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
    /// The built-in templates, with any `*.hbs` in `dir` replacing a built-in of the same name or adding a file.
    pub fn load(dir: Option<&Path>) -> Result<Self> {
        let mut registry = Handlebars::new();
        registry.set_strict_mode(true);
        registry.register_escape_fn(hcl::string);
        registry.register_helper("hcl", Box::new(hcl_helper));
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
            outputs.push(name);
        }
        outputs.sort();
        Ok(Templates { registry, outputs })
    }

    /// Renders every template to its file (`alarms.tf.hbs` → `alarms.tf`).
    pub fn render(&self, context: &impl Serialize) -> Result<Vec<GeneratedFile>> {
        let mut files = Vec::new();
        for name in &self.outputs {
            let rendered = self.registry.render(name, context).map_err(|e| Error::Generate(format!("template {name}: {e}")))?;
            let path = name.trim_end_matches(".hbs").to_string();
            let contents = tidy(&format!("{HEADER}\n\n{rendered}"));
            if path.ends_with(".tf") {
                hcl::parse_back(&path, &contents).map_err(Error::Generate)?;
            }
            files.push(GeneratedFile { path, contents });
        }
        Ok(files)
    }
}

/// `terraform fmt` alignment, no trailing spaces, at most one blank line in a row, no blank
/// line right after an opening or before a closing brace, one final newline.
fn tidy(text: &str) -> String {
    let aligned = hcl::align(text);
    let mut out = String::with_capacity(aligned.len());
    let mut blank_run = 0;
    let mut previous_opens = true;
    let lines: Vec<&str> = aligned.lines().map(str::trim_end).collect();
    for (index, line) in lines.iter().enumerate() {
        if line.is_empty() {
            blank_run += 1;
            let next_closes = lines[index + 1..].iter().find(|l| !l.is_empty()).is_none_or(|l| {
                let t = l.trim_start();
                t.starts_with('}') || t.starts_with(']') || t.starts_with(')')
            });
            if blank_run > 1 || previous_opens || next_closes {
                continue;
            }
        } else {
            blank_run = 0;
            previous_opens = line.ends_with('{') || line.ends_with('[') || line.ends_with('(');
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tidy_collapses_blank_lines() {
        assert_eq!(tidy("a {\n\n  b = 1  \n\n\n  c = 2\n\n}\n\n"), "a {\n  b = 1\n\n  c = 2\n}\n");
    }

    #[test]
    fn literals_cover_every_json_type() {
        let value = serde_json::json!({"a": [1, 2.5, "x${y}"], "b c": true, "n": null});
        assert_eq!(literal(&value), "{ a = [1, 2.5, \"x$${y}\"], \"b c\" = true, n = null }");
    }
}
