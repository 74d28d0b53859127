//! `onwatch init`: a starting configuration in a directory. The built-in defaults (`config/`,
//! `policies/`) with `"$schema"` pointing at the published schemas, a README saying which file
//! to change for what (JSON carries no comments), and optionally the example CI of
//! `examples/ci/`, embedded so that there is one copy. Every target is checked before anything
//! is written; each file is written atomically.

use std::path::{Path, PathBuf};

use crate::{
    embedded,
    error::{Error, Result},
    output::write_atomic,
};

/// Where the schemas are published: this repository's `schemas/`, under the stable names that
/// `schemas/catalog.json` lists.
pub const SCHEMA_BASE_URL: &str = "https://raw.githubusercontent.com/onwatch/onwatch/main/schemas";

/// Which CI system's workflows to write along with the configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Ci {
    #[default]
    None,
    Github,
    Gitlab,
}

/// The example workflows, by the path they take in a repository.
const GITHUB_WORKFLOWS: &[(&str, &str)] = &[
    (".github/workflows/onwatch-pull-request.yml", include_str!("../examples/ci/github/onwatch-pull-request.yml")),
    (".github/workflows/onwatch-fork-check.yml", include_str!("../examples/ci/github/onwatch-fork-check.yml")),
    (".github/workflows/onwatch-fork-publish.yml", include_str!("../examples/ci/github/onwatch-fork-publish.yml")),
    (".github/workflows/onwatch-generate.yml", include_str!("../examples/ci/github/onwatch-generate.yml")),
    (".github/workflows/onwatch-drift.yml", include_str!("../examples/ci/github/onwatch-drift.yml")),
];
const GITLAB_PIPELINE: &[(&str, &str)] = &[(".gitlab-ci.yml", include_str!("../examples/ci/gitlab/.gitlab-ci.yml"))];

/// The README written beside `config/` and `policies/`: where to change what.
const README: &str = include_str!("init/README.md");

/// One file `init` writes, by its path relative to the target directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitFile {
    pub path: String,
    pub contents: String,
}

/// The schema (by its stable file name) of a built-in file: `config/NAME.json` has
/// `NAME.schema.json`, every policy `policy.schema.json`.
pub fn schema_name(dir: &str, file: &str) -> String {
    match dir {
        "policies" => "policy.schema.json".to_string(),
        _ => format!("{}.schema.json", file.trim_end_matches(".json")),
    }
}

/// `text` with its `"$schema"` set to `url`. The built-in files carry one on their second line
/// (relative to this repository); it is replaced in place, so every other line keeps its number
/// and findings point at the same lines as with the built-ins.
pub fn with_schema(text: &str, url: &str) -> String {
    let line = format!("  \"$schema\": \"{url}\",");
    let Some(body) = text.strip_prefix("{\n") else {
        return text.to_string();
    };
    match body.split_once('\n') {
        Some((first, rest)) if first.trim_start().starts_with("\"$schema\"") => format!("{{\n{line}\n{rest}"),
        _ => format!("{{\n{line}\n{body}"),
    }
}

/// Every file `init` writes for `ci`, in a fixed order.
pub fn files(ci: Ci) -> Vec<InitFile> {
    let mut files = Vec::new();
    for (dir, built_in) in [("config", embedded::CONFIG), ("policies", embedded::POLICIES)] {
        for (name, text) in built_in.iter().filter(|(name, _)| name.ends_with(".json")) {
            let url = format!("{SCHEMA_BASE_URL}/{}", schema_name(dir, name));
            files.push(InitFile { path: format!("{dir}/{name}"), contents: with_schema(text, &url) });
        }
    }
    files.push(InitFile { path: "README.md".into(), contents: README.to_string() });
    let workflows: &[(&str, &str)] = match ci {
        Ci::None => &[],
        Ci::Github => GITHUB_WORKFLOWS,
        Ci::Gitlab => GITLAB_PIPELINE,
    };
    files.extend(workflows.iter().map(|(path, text)| InitFile { path: path.to_string(), contents: text.to_string() }));
    files
}

/// The first reason `path` cannot be written without replacing something: an entry at its place
/// (a file, a directory, a broken symlink), or a directory on its way that is not one.
fn blocker(dir: &Path, path: &Path, force: bool) -> Option<(PathBuf, &'static str)> {
    let mut on_the_way = path.parent();
    while let Some(ancestor) = on_the_way.filter(|a| a.starts_with(dir) && *a != dir) {
        if std::fs::metadata(ancestor).is_ok_and(|m| !m.is_dir()) {
            return Some((ancestor.to_path_buf(), "is in the way: it is not a directory"));
        }
        on_the_way = ancestor.parent();
    }
    match std::fs::symlink_metadata(path) {
        Ok(metadata) if metadata.is_dir() => Some((path.to_path_buf(), "is a directory")),
        Ok(_) if !force => Some((path.to_path_buf(), "exists; onwatch init replaces nothing without --force")),
        _ => None,
    }
}

/// Writes `files` under `dir`, each atomically, after checking every target: an existing file
/// (without `force`) or anything in the way is an error naming the first one, and nothing is
/// written. Returns the paths written.
pub fn write(dir: &Path, files: &[InitFile], force: bool) -> Result<Vec<PathBuf>> {
    if std::fs::metadata(dir).is_ok_and(|m| !m.is_dir()) {
        return Err(Error::Usage(format!("{}: not a directory", dir.display())));
    }
    let targets: Vec<PathBuf> = files.iter().map(|file| dir.join(&file.path)).collect();
    if let Some((path, why)) = targets.iter().find_map(|target| blocker(dir, target, force)) {
        return Err(Error::Refused(format!("{}: {why}; nothing was written", path.display())));
    }
    for (file, target) in files.iter().zip(&targets) {
        write_atomic(target, file.contents.as_bytes())?;
    }
    Ok(targets)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_built_in_file_gets_a_published_schema_on_its_own_line() {
        let shipped: Vec<&str> = crate::schemas::shipped_schemas().into_iter().map(|(name, _)| name).collect();
        for file in files(Ci::None).iter().filter(|f| f.path.ends_with(".json")) {
            let (dir, name) = file.path.split_once('/').unwrap();
            let schema = schema_name(dir, name);
            assert!(shipped.contains(&schema.as_str()), "{}: no shipped schema {schema}", file.path);
            let value: serde_json::Value = serde_json::from_str(&file.contents).unwrap();
            assert_eq!(value["$schema"], format!("{SCHEMA_BASE_URL}/{schema}"), "{}", file.path);
            let (_, built_in) = embedded_file(dir, name);
            assert_eq!(file.contents.lines().count(), built_in.lines().count(), "{}: lines moved", file.path);
        }
    }

    fn embedded_file(dir: &str, name: &str) -> (&'static str, &'static str) {
        let table = if dir == "config" { embedded::CONFIG } else { embedded::POLICIES };
        *table.iter().find(|(n, _)| *n == name).unwrap()
    }

    #[test]
    fn a_file_without_schema_gets_one_inserted() {
        assert_eq!(with_schema("{\n  \"a\": 1\n}\n", "u"), "{\n  \"$schema\": \"u\",\n  \"a\": 1\n}\n");
        assert_eq!(with_schema("{\n  \"$schema\": \"x\",\n  \"a\": 1\n}\n", "u"), "{\n  \"$schema\": \"u\",\n  \"a\": 1\n}\n");
    }

    #[test]
    fn ci_choices_add_their_workflows() {
        let paths = |ci| files(ci).into_iter().map(|f| f.path).filter(|p| !p.starts_with("config/") && !p.starts_with("policies/")).collect::<Vec<_>>();
        assert_eq!(paths(Ci::None), ["README.md"]);
        assert_eq!(paths(Ci::Gitlab), ["README.md", ".gitlab-ci.yml"]);
        assert_eq!(paths(Ci::Github).len(), 6, "the README and five workflows");
    }
}
