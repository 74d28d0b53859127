//! The module tree: which directory each local `module` call reads, so that the resources of a
//! called module get `module.NAME.` addresses and inherit their caller's provider region and
//! `default_tags`. Remote sources are noted as not read, never guessed; a cycle is an error.

use std::{
    collections::BTreeMap,
    path::{Component, Path, PathBuf},
};

use hcl::{Expression, Value};
use rustc_hash::FxHashMap;

use super::{eval::Limits, holds_reference, Module, ModuleInfo, ModuleNames, Parsed, Place};
use crate::error::{Error, Result};

/// `path` with `.` and `..` taken out lexically (module sources are written that way).
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir if out.file_name().is_some() => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// A local call: its name, the module it reads, and where the call is.
struct Call<'a> {
    name: &'a str,
    target: usize,
    place: Place,
}

fn static_tags(expression: Option<&Expression>, names: &ModuleNames, limits: &Limits) -> Option<BTreeMap<String, String>> {
    let value = names.scope(limits).evaluate(expression?).and_then(|value| value.to_value(limits));
    match value {
        Ok(Value::Object(map)) => Some(
            map.into_iter()
                .filter_map(|(key, value)| match value {
                    Value::String(text) if !holds_reference(&text) => Some((key, text)),
                    Value::Number(n) => Some((key, n.to_string())),
                    Value::Bool(b) => Some((key, b.to_string())),
                    _ => None,
                })
                .collect(),
        ),
        _ => None,
    }
}

/// Per module, its address prefix, region and default tags, and notes on the calls not followed.
pub(super) fn module_tree(
    root: &Path,
    parsed: &[Parsed],
    modules: &[Module],
    module_dirs: &[PathBuf],
    names: &[ModuleNames],
    regions: &[FxHashMap<String, Option<String>>],
    limits: &Limits,
) -> Result<(Vec<ModuleInfo>, Vec<String>)> {
    let absolute: Vec<PathBuf> = module_dirs.iter().map(|dir| normalize(&root.join(dir))).collect();
    let by_dir: FxHashMap<&PathBuf, usize> = absolute.iter().enumerate().map(|(index, dir)| (dir, index)).collect();
    let mut notes = Vec::new();
    let mut calls: Vec<Vec<Call>> = Vec::with_capacity(modules.len());
    for (index, module) in modules.iter().enumerate() {
        let mut local = Vec::new();
        for &(name, source, place) in &module.calls {
            let at = format!("{}:{}", parsed[place.file].display, place.line);
            let Some(Expression::String(source)) = source else {
                notes.push(format!("terraform: {at}: module.{name} is not read: its source is not a literal"));
                continue;
            };
            if !(source.starts_with("./") || source.starts_with("../")) {
                notes.push(format!("terraform: {at}: module.{name} (source {source:?}) is not read: only local module sources are followed"));
                continue;
            }
            match by_dir.get(&normalize(&absolute[index].join(source))) {
                Some(&target) => local.push(Call { name, target, place }),
                None => notes.push(format!("terraform: {at}: module.{name} (source {source:?}) is not read: no .tf files there under {}", root.display())),
            }
        }
        calls.push(local);
    }
    let mut called = vec![false; modules.len()];
    for call in calls.iter().flatten() {
        called[call.target] = true;
    }
    let mut info: Vec<Option<ModuleInfo>> = vec![None; modules.len()];
    let own_region = |index: usize| regions[index].get("").cloned().flatten();
    let own_tags = |index: usize| static_tags(modules[index].default_tags, &names[index], limits);
    // Roots first (modules nobody calls); what is left over is only reachable through a cycle.
    let order: Vec<usize> = (0..modules.len()).filter(|&i| !called[i]).chain((0..modules.len()).filter(|&i| called[i])).collect();
    for start in order {
        if info[start].is_some() {
            continue;
        }
        info[start] = Some(ModuleInfo { prefix: String::new(), region: own_region(start), default_tags: own_tags(start).unwrap_or_default() });
        let mut stack: Vec<(usize, usize)> = vec![(start, 0)];
        while let Some(&mut (module, ref mut next)) = stack.last_mut() {
            let Some(call) = calls[module].get(*next) else {
                stack.pop();
                continue;
            };
            *next += 1;
            let at = || (parsed[call.place.file].display.clone(), call.place.line);
            if stack.iter().any(|&(m, _)| m == call.target) {
                let (file, line) = at();
                let message = format!("module.{} calls {} again, a module cycle", call.name, module_dirs[call.target].display());
                return Err(Error::TerraformInvalid { file, line, message });
            }
            if info[call.target].is_some() {
                let (file, line) = at();
                notes.push(format!("terraform: {file}:{line}: module.{} reads {} again; its resources are read once", call.name, module_dirs[call.target].display()));
                continue;
            }
            let caller = info[module].clone().expect("callers are placed first");
            info[call.target] = Some(ModuleInfo {
                prefix: format!("{}module.{}.", caller.prefix, call.name),
                region: own_region(call.target).or(caller.region),
                default_tags: own_tags(call.target).unwrap_or(caller.default_tags),
            });
            stack.push((call.target, 0));
        }
    }
    Ok((info.into_iter().map(|i| i.expect("every module is placed")).collect(), notes))
}
