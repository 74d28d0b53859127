//! The command line: raw flags are parsed by clap, turned into settings, and handed to the
//! library. This is the edge where errors become messages and exit codes.

mod args;
mod progress;

use std::{
    io::{IsTerminal, Write},
    path::{Path, PathBuf},
    process::ExitCode,
};

use clap::Parser;

use args::*;
pub use args::Cli;
use progress::note;

use crate::{
    check::{self, drift},
    config::{self, parse_date, Sources},
    error::Error,
    findings::{Code, Severity},
    generate,
    model::Inventory,
    output::{diagnostic, interrupt, write_all_atomic, write_atomic_with},
    report::{self, Document, Format, ReportSpec},
    support::Progress,
    scan, snapshot, terraform,
};

/// Exit codes, as documented in the README.
pub const EXIT_CLEAN: u8 = 0;
pub const EXIT_FINDINGS: u8 = 1;
pub const EXIT_ERROR: u8 = 2;

/// Parses arguments, runs, and maps the outcome to an exit code. SIGINT and SIGTERM end the
/// process with 130 and 143, after any write in progress has cleaned up or finished.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Err(error) = interrupt::install() {
        diagnostic(format_args!("warning: cannot handle SIGINT and SIGTERM: {error}"));
    }
    let outcome = run(cli);
    if let Some(signal) = interrupt::pending() {
        if let Err(error) = &outcome {
            diagnostic(format_args!("error: {error}"));
        }
        return ExitCode::from(interrupt::exit_code(signal));
    }
    match outcome {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            diagnostic(format_args!("error: {error}"));
            ExitCode::from(EXIT_ERROR)
        }
    }
}

fn run(cli: Cli) -> Result<u8, Error> {
    progress::set_quiet(cli.quiet);
    match cli.command {
        Command::Check(args) => run_check(args),
        Command::Generate(args) => run_generate(args),
        Command::Drift(args) => run_drift(args),
        Command::Scan(args) => {
            let config_dir = Sources::from_flags(args.config, None)?.config_dir;
            let catalog = config::load_catalog(config_dir.as_deref())?;
            let mut options = args.aws.options();
            options.alarm_history_days = config::load_alarm_hygiene(config_dir.as_deref())?.flapping.map(|f| f.window_days);
            args.organization.apply(&mut options);
            options.shard = args.shard;
            let scan = scan::run(&options, &catalog)?;
            for skipped in &scan.skipped {
                note(format_args!("skipped {skipped} (not active)"));
            }
            write_atomic_with(&args.output, |out| snapshot::write_json(out, &scan.inventory))?;
            note(format_args!("{}: {}", args.output.display(), scan.summary()));
            let failures = scan.failures();
            for failure in &failures {
                note(format_args!("failed scope {failure}"));
            }
            if failures.is_empty() {
                Ok(EXIT_CLEAN)
            } else {
                note(format_args!("{} scopes failed (--allow-partial): the snapshot records them as failed", failures.len()));
                Ok(EXIT_FINDINGS)
            }
        }
        Command::Merge(args) => {
            let paths: Vec<&Path> = args.snapshots.iter().map(PathBuf::as_path).collect();
            let inventory = snapshot::merge::merge_files(&paths)?;
            write_atomic_with(&args.output, |out| snapshot::write_json(out, &inventory))?;
            note(format_args!("{}: merged {} snapshots: {} scopes, {} resources, {} alarms", args.output.display(), paths.len(), inventory.scopes.len(), inventory.resources.len(), inventory.alarms.len()));
            // The process ends here: freeing an organisation's items one by one is a sixth of the merge.
            std::mem::forget(inventory);
            Ok(EXIT_CLEAN)
        }
        Command::Audit(AuditCommand::List(args)) => run_audit_list(args),
        Command::Init(args) => {
            let written = crate::init::write(&args.dir, &crate::init::files(args.ci()), args.force)?;
            note(format_args!("{}: wrote {} files; run onwatch validate there after each change", args.dir.display(), written.len()));
            Ok(EXIT_CLEAN)
        }
        Command::IamPolicy(args) => {
            let policy = if args.audit {
                let settings = config::load(&Sources::from_flags(args.config, None)?)?;
                scan::audit_reader_policy(&settings.audit.table_name, &generate::security::audit_key_alias(&settings.thresholds.alarm_name_prefix))
            } else if args.organization {
                scan::organization_caller_policy(&args.role_name)
            } else {
                scan::iam_policy()
            };
            let mut policy = serde_json::to_string_pretty(&crate::json::sorted(policy)).expect("policies serialize");
            policy.push('\n');
            print_stdout(&policy)?;
            Ok(EXIT_CLEAN)
        }
        Command::Validate(args) => {
            let settings = config::load(&Sources::from_flags(args.config, args.policies)?)?;
            let rules: usize = settings.policies.iter().map(|p| p.alarms.len()).sum();
            print_stdout(&format!(
                "ok: {} resource types, {} policies with {} alarm rules, {} severities\n",
                settings.catalog.types().count(),
                settings.policies.len(),
                rules,
                settings.thresholds.severities.len()
            ))?;
            Ok(EXIT_CLEAN)
        }
        Command::Explain { code: Some(code) } => {
            let code: Code = code.parse().map_err(Error::Usage)?;
            print_stdout(&format!("{code} ({})\n\n{}\n\nFix: {}\n", code.severity().as_str(), code.summary(), code.fix()))?;
            Ok(EXIT_CLEAN)
        }
        Command::Explain { code: None } => {
            let width = Code::ALL.iter().map(|code| code.as_str().len()).max().unwrap_or(0);
            let listing: String = Code::ALL
                .iter()
                .map(|code| format!("{:<width$} {:<8} {}\n", code.as_str(), code.severity().as_str(), code.summary()))
                .collect();
            print_stdout(&listing)?;
            Ok(EXIT_CLEAN)
        }
    }
}

fn as_of(flag: &Option<String>) -> Result<time::Date, Error> {
    match flag {
        Some(text) => parse_date(text).ok_or_else(|| Error::Usage(format!("--as-of {text:?} is not a date (YYYY-MM-DD)"))),
        None => Ok(time::OffsetDateTime::now_utc().date()),
    }
}

/// The inventory to work on, from `--inventory FILE` or `--live` (a scan of `catalog`'s types),
/// and the name reports give it.
fn load_inventory(source: &SourceArgs, aws: &AwsArgs, catalog: &config::Catalog) -> Result<(Inventory, String), Error> {
    load_inventory_with_history(source, aws, catalog, None)
}

/// [`load_inventory`], a live scan reading `alarm_history_days` of alarm history (the flapping check's).
fn load_inventory_with_history(source: &SourceArgs, aws: &AwsArgs, catalog: &config::Catalog, alarm_history_days: Option<u32>) -> Result<(Inventory, String), Error> {
    if source.live {
        let scan = scan::run(&scan::ScanOptions { alarm_history_days, ..aws.options() }, catalog)?;
        note(format_args!("live: {}", scan.summary()));
        return Ok((scan.inventory, "live scan".to_string()));
    }
    if aws.given() {
        return Err(Error::Usage("--region, --all-regions, --profile, --role-arn, --endpoint-url and --timeout need --live".into()));
    }
    let file = source.inventory.as_ref().expect("clap requires --inventory or --live");
    Ok((snapshot::read(file)?, file.display().to_string()))
}

/// [`load_inventory`] as a stage of `bar`. A live scan draws its own bar, so this one stays off
/// the screen meanwhile.
fn load_inventory_observed(source: &SourceArgs, aws: &AwsArgs, catalog: &config::Catalog, bar: &progress::Bar) -> Result<(Inventory, String), Error> {
    if source.live {
        return bar.suspend(|| load_inventory(source, aws, catalog));
    }
    bar.stage("reading the inventory", 0);
    load_inventory(source, aws, catalog)
}

/// The Terraform a check reads (`--terraform DIR` or `--plan FILE`), with the catalogue's types watched.
fn read_declared(
    terraform_dir: Option<&PathBuf>,
    plan: Option<&PathBuf>,
    catalog: &config::Catalog,
) -> Result<Option<(terraform::Declared, Vec<terraform::plan::Deleted>, String)>, Error> {
    let watch = terraform::Watch { arguments: catalog.terraform_arguments() };
    if let Some(dir) = terraform_dir {
        return Ok(Some((terraform::read_dir_watching(dir, &watch)?, Vec::new(), dir.display().to_string())));
    }
    if let Some(file) = plan {
        let plan = terraform::plan::read(file, &watch)?;
        note(format_args!("plan: {} resource changes in {}", plan.changes, file.display()));
        return Ok(Some((plan.declared, plan.deleted, file.display().to_string())));
    }
    Ok(None)
}

fn run_generate(args: GenerateArgs) -> Result<u8, Error> {
    let as_of = as_of(&args.as_of)?;
    if !(0.0..=100.0).contains(&args.max_deletions) {
        return Err(Error::Usage(format!("--max-deletions {} is not a percentage", args.max_deletions)));
    }
    let settings = config::load(&Sources::from_flags(args.config.config.clone(), args.config.policies.clone())?)?;
    if let Some(dir) = args.into.clone() {
        return run_generate_into(&args, &dir, &settings, as_of);
    }
    let templates = generate::Templates::load(args.templates.as_deref())?;
    let bar = progress::Bar::new();
    let (inventory, _) = load_inventory_observed(&args.source, &args.aws, &settings.catalog, &bar)?;
    if let Some(dir) = &args.per_account {
        drop(bar);
        return run_generate_per_account(&args, dir, &inventory, &settings, &templates, as_of);
    }
    bar.stage("checking coverage", 0);
    let evaluation = check::evaluate(&inventory, &settings, as_of);
    let files = generate::generate_observed(&inventory, &settings, &evaluation, &templates, &generate::GenerateOptions { all: args.all }, &bar)?;
    bar.stage(if args.check { "comparing with the files on disk" } else { "writing files" }, 0);
    if args.check {
        let drift = generate::check_files(&args.out, &files, std::time::Duration::from_secs(args.lock_wait))?;
        drop(bar);
        return match drift {
            generate::Drift::UpToDate => Ok(EXIT_CLEAN),
            generate::Drift::Stale(diff) => {
                print_stdout(&diff)?;
                note(format_args!("{} is stale: run onwatch generate to update it", args.out.display()));
                Ok(EXIT_FINDINGS)
            }
        };
    }
    let options = generate::WriteOptions {
        allow_deletions: args.allow_deletions,
        max_deletion_percent: args.max_deletions,
        lock_wait: std::time::Duration::from_secs(args.lock_wait),
        failed_regions: inventory.scopes.iter().filter(|s| s.failed.is_some()).map(|s| s.region.clone()).collect(),
    };
    let changed = generate::write_files(&args.out, &files, &options)?;
    drop(bar);
    note(format_args!("{}: {} files, {} changed", args.out.display(), files.len(), changed.len()));
    // As in check: the OS reclaims a large account's memory faster than dropping it piece by piece.
    std::mem::forget((inventory, evaluation, files));
    Ok(EXIT_CLEAN)
}

/// `generate --per-account DIR`: one module per account in `DIR/<account-id>/`, each what a
/// generation from that account's inventory alone writes. Every module is generated, and with
/// `--check` compared, before any is written; the deletion guard is checked for every module
/// before the first is written.
fn run_generate_per_account(
    args: &GenerateArgs,
    dir: &Path,
    inventory: &Inventory,
    settings: &config::Settings,
    templates: &generate::Templates,
    as_of: time::Date,
) -> Result<u8, Error> {
    let mut modules = Vec::new();
    for account in crate::model::accounts(inventory) {
        let mine = crate::model::of_account(inventory, &account);
        let evaluation = check::evaluate(&mine, settings, as_of);
        let files = generate::generate(&mine, settings, &evaluation, templates, &generate::GenerateOptions { all: args.all })
            .map_err(|e| Error::Generate(format!("account {account}: {e}")))?;
        let failed_regions = mine.scopes.iter().filter(|s| s.failed.is_some()).map(|s| s.region.clone()).collect();
        modules.push((dir.join(&account), files, failed_regions));
    }
    let lock_wait = std::time::Duration::from_secs(args.lock_wait);
    if args.check {
        let mut stale = Vec::new();
        for (out, files, _) in &modules {
            if let generate::Drift::Stale(diff) = generate::check_files(out, files, lock_wait)? {
                print_stdout(&diff)?;
                stale.push(out.display().to_string());
            }
        }
        if stale.is_empty() {
            return Ok(EXIT_CLEAN);
        }
        note(format_args!("{} of {} modules are stale: {}; run onwatch generate --per-account to update them", stale.len(), modules.len(), stale.join(", ")));
        return Ok(EXIT_FINDINGS);
    }
    // Each module's deletion guard knows the regions its own account could not be read in.
    let options = |failed_regions: &Vec<String>| generate::WriteOptions {
        allow_deletions: args.allow_deletions,
        max_deletion_percent: args.max_deletions,
        lock_wait,
        failed_regions: failed_regions.clone(),
    };
    for (out, files, failed_regions) in &modules {
        generate::preflight(out, files, &options(failed_regions))?;
    }
    let mut changed = 0;
    for (out, files, failed_regions) in &modules {
        changed += usize::from(!generate::write_files(out, files, &options(failed_regions))?.is_empty());
    }
    note(format_args!("{}: {} account modules, {} changed", dir.display(), modules.len(), changed));
    Ok(EXIT_CLEAN)
}

/// `generate --into DIR`: the alarms of the resources DIR declares, into DIR/onwatch_alarms.tf.
fn run_generate_into(args: &GenerateArgs, dir: &Path, settings: &config::Settings, as_of: time::Date) -> Result<u8, Error> {
    // From a plan or from the Terraform in DIR; the file is written into DIR either way.
    let dir_given = dir.to_path_buf();
    let (declared, deleted, source) =
        read_declared(args.plan.is_none().then_some(&dir_given), args.plan.as_ref(), &settings.catalog)?.expect("a directory or a plan is given");
    let live = args.source.inventory.is_some();
    let mut inventory = match live {
        true => load_inventory(&args.source, &args.aws, &settings.catalog)?.0,
        false => Inventory { version: crate::model::SNAPSHOT_VERSION, ..Inventory::default() },
    };
    let input = check::DeclaredInput { declared: &declared, deleted: &deleted, source: &source, catalog: &settings.catalog, live };
    let overlay = check::overlay_declared(&mut inventory, &input);
    for left_out in &overlay.notes {
        note(left_out);
    }
    generate::into::add_topics(&mut inventory, settings);
    let evaluation = check::evaluate(&inventory, settings, as_of);
    let generated = generate::into::generate_into(&inventory, settings, &evaluation, &generate::GenerateOptions { all: args.all })?;
    for left_out in &generated.notes {
        note(left_out);
    }
    let files = generated.files;
    let lock_wait = std::time::Duration::from_secs(args.lock_wait);
    if args.check {
        return match generate::check_files(dir, &files, lock_wait)? {
            generate::Drift::UpToDate => Ok(EXIT_CLEAN),
            generate::Drift::Stale(diff) => {
                print_stdout(&diff)?;
                note(format_args!("{} is stale: run onwatch generate --into {} to update it", dir.join(generate::into::INTO_FILE).display(), dir.display()));
                Ok(EXIT_FINDINGS)
            }
        };
    }
    let failed_regions = inventory.scopes.iter().filter(|s| s.failed.is_some()).map(|s| s.region.clone()).collect();
    let options = generate::WriteOptions { allow_deletions: args.allow_deletions, max_deletion_percent: args.max_deletions, lock_wait, failed_regions };
    let changed = generate::write_files(dir, &files, &options)?;
    note(format_args!("{}: {} files, {} changed", dir.display(), files.len(), changed.len()));
    Ok(EXIT_CLEAN)
}

fn run_audit_list(args: AuditListArgs) -> Result<u8, Error> {
    check_report_paths(args.output.as_deref(), &args.reports)?;
    let since = crate::audit::since(&args.since, time::OffsetDateTime::now_utc())?;
    let settings = config::load(&Sources::from_flags(args.config, None)?)?;
    let options = crate::audit::ListOptions {
        aws: scan::ScanOptions {
            regions: args.region.into_iter().collect(),
            profile: args.profile,
            endpoint_url: args.endpoint_url,
            timeout: args.network.timeout(),
            ..Default::default()
        },
        table: args.table,
        query: crate::audit::Query { since: Some(since), resource: args.resource },
        max_pages: Some(args.max_pages),
    };
    let listing = crate::audit::list(&options, &settings.audit)?;
    let listing = report::AuditListing { records: &listing.records, table: &listing.table, region: &listing.region, query: &options.query };
    write_reports(&Document::audit(listing), args.format, args.output.as_deref(), &args.reports)?;
    Ok(EXIT_CLEAN)
}

fn run_drift(args: DriftArgs) -> Result<u8, Error> {
    check_report_paths(args.output.as_deref(), &args.reports)?;
    let as_of = as_of(&args.as_of)?;
    let config_dir = config::Sources::from_flags(args.config, None)?.config_dir;
    let ignore = config::drift_ignore::load(config_dir.as_deref())?;
    let catalog = config::load_catalog(config_dir.as_deref())?;
    let bar = progress::Bar::new();
    // The catalogue's arguments of declared resources are kept, as check reads them, so that a
    // reference to one (`aws_lambda_function.api.function_name`) has its static value.
    let watch = terraform::Watch { arguments: catalog.terraform_arguments() };
    let declared = terraform::read_dir_watching_observed(&args.terraform, &watch, &bar)?;
    let (inventory, inventory_name) = load_inventory_observed(&args.source, &args.aws, &catalog, &bar)?;
    bar.stage("comparing with the account", 0);
    let references = Some(std::sync::Arc::new(declared_references(&declared, &inventory, &catalog)));
    let options = drift::DriftOptions { unmanaged_prefixes: args.unmanaged_prefixes, ignore, today: Some(as_of), references };
    let report = drift::drift(&declared, &inventory, &options);
    drop(bar);
    let terraform_name = args.terraform.display().to_string();
    let document = Document::drift(&report, &terraform_name, &inventory_name, as_of.to_string());
    write_reports(&document, args.format, args.output.as_deref(), &args.reports)?;
    let drifted = report.has_drift();
    std::mem::forget((declared, inventory, report));
    Ok(if drifted { EXIT_FINDINGS } else { EXIT_CLEAN })
}

/// The values of references to the declared resources of `declared` that the source gives, in
/// the inventory's one account and region (else unknown, so what depends on them stays unresolved).
fn declared_references(declared: &terraform::Declared, inventory: &Inventory, catalog: &config::Catalog) -> terraform::watched::DeclaredInventory {
    let unique = |values: Vec<&str>| {
        let set: std::collections::BTreeSet<&str> = values.into_iter().collect();
        (set.len() == 1).then(|| set.into_iter().next().unwrap().to_string())
    };
    let account = unique(inventory.scopes.iter().map(|s| s.account.as_str()).collect()).unwrap_or_else(|| terraform::watched::UNKNOWN_ACCOUNT.into());
    let region = unique(inventory.scopes.iter().map(|s| s.region.as_str()).collect());
    terraform::watched::declared_resources(declared, catalog, &terraform::watched::Scope { account, region })
}

fn run_check(args: CheckArgs) -> Result<u8, Error> {
    check_report_paths(args.output.as_deref(), &args.reports)?;
    let as_of = as_of(&args.as_of)?;
    let mut settings = config::load(&Sources::from_flags(args.config.config, args.config.policies)?)?;
    let baseline = args.baseline.as_deref().map(crate::check::baseline::read).transpose()?;
    let live = args.source.inventory.is_some() || args.source.live;
    let declared = read_declared(args.terraform.as_ref(), args.plan.as_ref(), &settings.catalog)?;
    if !live && settings.security.enabled {
        // Trails and log groups are account state, not the repository's: without an inventory
        // every control would read as missing.
        settings.security.enabled = false;
        note("security: the detection controls are not checked without --inventory or --live");
    }
    let (mut inventory, inventory_name) = match (live, &declared) {
        (false, Some((_, _, source))) if !args.aws.given() => (Inventory { version: crate::model::SNAPSHOT_VERSION, ..Inventory::default() }, source.clone()),
        _ => load_inventory_with_history(&args.source, &args.aws, &settings.catalog, settings.thresholds.hygiene.flapping.map(|f| f.window_days))?,
    };
    let overlay = match &declared {
        Some((declared, deleted, source)) => {
            let input = check::DeclaredInput { declared, deleted, source, catalog: &settings.catalog, live };
            let overlay = check::overlay_declared(&mut inventory, &input);
            for left_out in &overlay.notes {
                note(left_out);
            }
            Some(overlay)
        }
        None => None,
    };
    let counting = overlay.as_ref().is_some_and(|o| !o.is_empty());
    let printed_requirements = args.format.needs_requirements() || args.reports.iter().any(|r| r.format.needs_requirements());
    let options = check::EvaluateOptions { requirements: printed_requirements || counting, ..Default::default() };
    let mut evaluation = check::evaluate_with(&inventory, &settings, as_of, options);
    if let Some(overlay) = &overlay {
        overlay.place(&mut evaluation);
    }
    if let Some(overlay) = overlay.filter(|_| counting) {
        overlay.count(&mut evaluation);
        if !printed_requirements {
            evaluation.requirements = Vec::new();
        }
    }
    let delta = baseline.as_ref().map(|baseline| crate::check::baseline::delta(baseline, &evaluation));
    let document = Document::coverage(&evaluation, delta.as_ref(), &inventory_name, as_of.to_string());
    write_reports(&document, args.format, args.output.as_deref(), &args.reports)?;
    let threshold = match args.fail_on {
        FailOn::Error => Some(Severity::Error),
        FailOn::Warning => Some(Severity::Warning),
        FailOn::Never => None,
    };
    let failing = matches!((threshold, evaluation.worst()), (Some(limit), Some(worst)) if worst >= limit);
    // The process ends here: returning the memory of a large account to the allocator piece by
    // piece costs a second at 100k resources, and the OS takes it back at once.
    std::mem::forget(evaluation);
    std::mem::forget(inventory);
    Ok(if failing { EXIT_FINDINGS } else { EXIT_CLEAN })
}

/// `--output` and the `--report` files must be different files; checked before any work is done.
fn check_report_paths(output: Option<&Path>, reports: &[ReportSpec]) -> Result<(), Error> {
    let mut seen = std::collections::HashSet::new();
    for path in output.into_iter().chain(reports.iter().map(|r| r.path.as_path())) {
        // The same file however it is spelt (`a.json`, `./a.json`, an absolute path), short of symlinks.
        let file = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        if !seen.insert(file) {
            return Err(Error::Usage(format!("--report {}: two reports to the same file", path.display())));
        }
    }
    Ok(())
}

/// Writes the document in `--format` to `--output` or standard output, and in each `--report`
/// format to its file. With `--report`, every report is rendered first and the files are then
/// written together (`write_all_atomic`): if one cannot be written, none is replaced.
fn write_reports(document: &Document, format: Format, output: Option<&Path>, reports: &[ReportSpec]) -> Result<(), Error> {
    let color = format == Format::Text && output.is_none() && std::io::stdout().is_terminal() && !no_color();
    let options = report::Options { color };
    if reports.is_empty() {
        return match output {
            Some(path) => write_atomic_with(path, |out| document.write(format, &options, out)),
            None => {
                let mut stdout = std::io::BufWriter::with_capacity(1 << 20, std::io::stdout().lock());
                ignore_broken_pipe(document.write(format, &options, &mut stdout).and_then(|()| stdout.flush()))
            }
        };
    }
    let plain = report::Options::default();
    let mut rendered: Vec<(&Path, String)> = reports.iter().map(|r| (r.path.as_path(), document.render(r.format, &plain))).collect();
    let stdout = match output {
        Some(path) => {
            rendered.push((path, document.render(format, &plain)));
            None
        }
        None => Some(document.render(format, &options)),
    };
    let files: Vec<(&Path, &[u8])> = rendered.iter().map(|(path, text)| (*path, text.as_bytes())).collect();
    write_all_atomic(&files)?;
    match stdout {
        Some(text) => print_stdout(&text),
        None => Ok(()),
    }
}

fn no_color() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|value| !value.is_empty())
}

/// A closed pipe (`onwatch check | head`) is not an error.
fn ignore_broken_pipe(result: std::io::Result<()>) -> Result<(), Error> {
    match result {
        Err(error) if error.kind() != std::io::ErrorKind::BrokenPipe => Err(Error::Write { path: PathBuf::from("<stdout>"), source: error }),
        _ => Ok(()),
    }
}

fn print_stdout(text: &str) -> Result<(), Error> {
    let mut stdout = std::io::stdout().lock();
    ignore_broken_pipe(stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush()))
}
