//! What every output promises when runs overlap, when a file is replaced and when the process is
//! told to stop (issue 15 defects 6 and 14, and signals during `generate`), through the binary.

use std::{
    collections::BTreeMap,
    fs,
    os::unix::fs::{symlink, PermissionsExt},
    path::{Path, PathBuf},
    process::{Child, Command, Output, Stdio},
    time::{Duration, Instant},
};

use onwatch::model::Inventory;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn example() -> PathBuf {
    root().join("examples/inventory.json")
}

/// The binary under `umask`, from the repository root (the built-in config is ./config).
fn onwatch_with_umask(umask: &str, args: &[String]) -> Command {
    let mut command = Command::new("sh");
    command.arg("-c").arg(format!("umask {umask} && exec \"$0\" \"$@\"")).arg(env!("CARGO_BIN_EXE_onwatch")).args(args).current_dir(root());
    command.stdout(Stdio::piped()).stderr(Stdio::piped());
    command
}

fn run(args: &[String]) -> Output {
    onwatch_with_umask("022", args).output().unwrap()
}

fn code(output: &Output) -> i32 {
    output.status.code().unwrap_or(-1)
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| s.to_string()).collect()
}

fn generate_args(inventory: &Path, out: &Path) -> Vec<String> {
    strings(&["generate", "--inventory", inventory.to_str().unwrap(), "--as-of", "2026-11-25", "--allow-deletions", "--out", out.to_str().unwrap()])
}

/// Every entry under `dir` (directories, files with their bytes, links with their target): two
/// trees are equal only when nothing was added, left behind or changed.
fn tree(dir: &Path) -> BTreeMap<String, String> {
    walkdir::WalkDir::new(dir)
        .min_depth(1)
        .into_iter()
        .map(|e| e.unwrap())
        .map(|e| {
            let name = e.path().strip_prefix(dir).unwrap().display().to_string();
            let kind = e.file_type();
            let value = if kind.is_symlink() {
                format!("link {}", fs::read_link(e.path()).unwrap().display())
            } else if kind.is_dir() {
                "dir".to_string()
            } else {
                format!("file {}", String::from_utf8_lossy(&fs::read(e.path()).unwrap()))
            };
            (name, value)
        })
        .collect()
}

fn mode(path: &Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

/// The example account with `extra` more instances that lack their alarms: a different module.
fn bigger_inventory(dir: &Path, extra: usize) -> PathBuf {
    let mut inventory: Inventory = onwatch::snapshot::read(&example()).unwrap();
    let template = inventory.resources.iter().find(|r| r.resource_type == "ec2:instance").expect("the example has an instance").clone();
    for n in 0..extra {
        let mut resource = template.clone();
        resource.arn = format!("arn:aws:ec2:{}:{}:instance/i-e{n:016x}", template.region, template.account);
        inventory.resources.push(resource);
    }
    let path = dir.join(format!("inventory-{extra}.json"));
    fs::write(&path, onwatch::snapshot::to_json(&inventory)).unwrap();
    path
}

/// The module `inventory` generates, written into a fresh directory.
fn module_of(inventory: &Path, dir: &Path) -> BTreeMap<String, String> {
    let out = dir.join(format!("expected-{}", inventory.file_stem().unwrap().to_string_lossy()));
    let output = run(&generate_args(inventory, &out));
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    tree(&out)
}

fn spawn(args: &[String]) -> Child {
    onwatch_with_umask("022", args).spawn().unwrap()
}

/// Issue 15, defect 6: 4 runs of one inventory and 4 of another into one `--out` at once (and two
/// `--check` runs beside them) all exited 0 and could leave a mix of the two modules. The
/// directory is now locked: after every round the module is one of the two, whole, and every
/// `--check` saw one of the two whole (no diff, or exactly the diff between them). More rounds:
/// `ONWATCH_DEFECT_6_ROUNDS=150`.
#[test]
fn defect_6_concurrent_generates_into_one_out_leave_one_whole_module() {
    let rounds: usize = std::env::var("ONWATCH_DEFECT_6_ROUNDS").map_or(10, |n| n.parse().unwrap());
    let dir = tempfile::tempdir().unwrap();
    let (first, second) = (example(), bigger_inventory(dir.path(), 300));
    let (module_first, module_second) = (module_of(&first, dir.path()), module_of(&second, dir.path()));
    assert_ne!(module_first, module_second);
    let out = dir.path().join("out");
    assert_eq!(code(&run(&generate_args(&second, &out))), 0);
    let mut check_first = generate_args(&first, &out);
    check_first.push("--check".into());
    let stale_diff = run(&check_first);
    assert_eq!(code(&stale_diff), 1, "{}", stderr(&stale_diff));
    assert!(!stale_diff.stdout.is_empty());
    for round in 0..rounds {
        let mut children = Vec::new();
        for n in 0..8 {
            let inventory = if n % 2 == 0 { &first } else { &second };
            children.push(("generate", spawn(&generate_args(inventory, &out))));
            // Staggered starts, different in every round, so runs overlap at every phase.
            std::thread::sleep(Duration::from_millis(((round * 7 + n * 11) % 23) as u64));
            if n % 4 == 1 {
                children.push(("check", spawn(&check_first)));
            }
        }
        for (kind, child) in children {
            let output = child.wait_with_output().unwrap();
            match kind {
                "generate" => assert_eq!(code(&output), 0, "round {round}: {}", stderr(&output)),
                _ => {
                    let whole = (code(&output) == 0 && output.stdout.is_empty()) || (code(&output) == 1 && output.stdout == stale_diff.stdout);
                    assert!(whole, "round {round}: --check saw a mixed module (exit {}):\n{}", code(&output), String::from_utf8_lossy(&output.stdout));
                }
            }
        }
        let now = tree(&out);
        assert!(now == module_first || now == module_second, "round {round}: the module is a mix of two runs (or has leftovers): {:?}", now.keys().collect::<Vec<_>>());
    }
}

/// Defect 6's bound: a run that cannot get the lock waits `--lock-wait` seconds, then exits 2
/// naming the directory, and writes nothing; once the lock is released a waiting run goes on.
#[test]
fn defect_6_a_held_lock_is_waited_for_then_refused_naming_the_directory() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let bigger = bigger_inventory(dir.path(), 20);
    assert_eq!(code(&run(&generate_args(&example(), &out))), 0);
    let before = tree(&out);
    let holder = fs::File::open(&out).unwrap();
    holder.lock().unwrap();
    for check in [false, true] {
        let mut args = generate_args(&bigger, &out);
        args.extend(strings(&["--lock-wait", "1"]));
        if check {
            args.push("--check".into());
        }
        let started = Instant::now();
        let output = run(&args);
        let message = stderr(&output);
        assert_eq!(code(&output), 2, "check={check}: {message}");
        assert!(started.elapsed() >= Duration::from_secs(1), "it waits --lock-wait first");
        assert!(message.contains(out.to_str().unwrap()) && message.contains("another onwatch holds the lock"), "{message}");
        assert_eq!(tree(&out), before, "nothing written");
    }
    let mut waiting = spawn(&generate_args(&bigger, &out));
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(waiting.stderr.take().unwrap()));
    let first = lines.next().expect("the run says it waits").unwrap();
    assert!(first.contains(out.to_str().unwrap()) && first.contains("waiting for another onwatch"), "{first}");
    assert_eq!(tree(&out), before, "the waiting run writes nothing while the lock is held");
    drop(holder);
    let rest: Vec<String> = lines.map(|line| line.unwrap()).collect();
    assert_eq!(waiting.wait().unwrap().code(), Some(0), "{rest:?}");
    assert_eq!(tree(&out), module_of(&bigger, dir.path()));
}

fn check_args(output: &Path) -> Vec<String> {
    strings(&["check", "--inventory", example().to_str().unwrap(), "--as-of", "2026-11-25", "--fail-on", "never", "--output", output.to_str().unwrap()])
}

fn drift_args(output: &Path) -> Vec<String> {
    let example = example();
    strings(&["drift", "--terraform", "infrastructure/generated", "--inventory", example.to_str().unwrap(), "--as-of", "2026-11-25", "--output", output.to_str().unwrap()])
}

/// Issue 15, defect 14: a replaced report became 0600 (tempfile's mode). It now keeps the mode of
/// the file it replaces, even one the umask would not give.
#[test]
fn defect_14_a_replaced_report_keeps_its_mode() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.txt");
    for (command, args) in [("check", check_args(&path)), ("drift", drift_args(&path))] {
        for wanted in [0o644, 0o640, 0o604] {
            fs::write(&path, "old").unwrap();
            fs::set_permissions(&path, fs::Permissions::from_mode(wanted)).unwrap();
            let output = onwatch_with_umask("077", &args).output().unwrap();
            assert!([0, 1].contains(&code(&output)), "{command}: {}", stderr(&output));
            assert_ne!(fs::read_to_string(&path).unwrap(), "old", "{command} replaced the report");
            assert_eq!(mode(&path), wanted, "{command} kept the report's mode {wanted:o}");
        }
    }
}

/// Defect 14: a new report and a new module's files get what the umask leaves of 0666, like any
/// file a program creates (generated files and reports were 0600 whatever the umask).
#[test]
fn defect_14_new_outputs_and_module_files_honour_the_umask() {
    let dir = tempfile::tempdir().unwrap();
    for (umask, wanted) in [("022", 0o644), ("027", 0o640), ("077", 0o600)] {
        let report = dir.path().join(format!("report-{umask}.txt"));
        let output = onwatch_with_umask(umask, &check_args(&report)).output().unwrap();
        assert_eq!(code(&output), 0, "{}", stderr(&output));
        assert_eq!(mode(&report), wanted, "a new report under umask {umask}");
        let out = dir.path().join(format!("module-{umask}"));
        let output = onwatch_with_umask(umask, &generate_args(&example(), &out)).output().unwrap();
        assert_eq!(code(&output), 0, "{}", stderr(&output));
        let files: Vec<_> = walkdir::WalkDir::new(&out).into_iter().map(|e| e.unwrap()).filter(|e| e.file_type().is_file()).collect();
        assert!(files.len() > 5);
        for file in files {
            assert_eq!(mode(file.path()), wanted, "{} under umask {umask}", file.path().display());
        }
    }
}

/// Defect 14: regenerating keeps the mode of each module file it replaces.
#[test]
fn defect_14_regenerated_module_files_keep_their_mode() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    assert_eq!(code(&run(&generate_args(&example(), &out))), 0);
    let kept = [("alarms.tf", 0o640), ("dashboards.tf", 0o604), ("grafana/onwatch.json", 0o664)];
    let mut before = BTreeMap::new();
    for (name, wanted) in kept {
        fs::set_permissions(out.join(name), fs::Permissions::from_mode(wanted)).unwrap();
        before.insert(name, fs::read(out.join(name)).unwrap());
    }
    let bigger = bigger_inventory(dir.path(), 40);
    let output = onwatch_with_umask("077", &generate_args(&bigger, &out)).output().unwrap();
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    for (name, wanted) in kept {
        assert_ne!(fs::read(out.join(name)).unwrap(), before[name], "{name} was regenerated");
        assert_eq!(mode(&out.join(name)), wanted, "{name} kept its mode");
    }
}

/// Defect 14: `--output LINK` replaced the link with a regular file. The link's target is now
/// replaced atomically (staged beside it) and the link stays; a dangling link creates its target.
#[test]
fn defect_14_a_symlink_given_as_output_updates_its_target() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("real")).unwrap();
    let target = dir.path().join("real/report.txt");
    fs::write(&target, "old").unwrap();
    fs::set_permissions(&target, fs::Permissions::from_mode(0o640)).unwrap();
    symlink("real/report.txt", dir.path().join("link.txt")).unwrap();
    symlink("link.txt", dir.path().join("link-to-link.txt")).unwrap();
    symlink("real/new.txt", dir.path().join("dangling.txt")).unwrap();
    for (link, file) in [("link.txt", "real/report.txt"), ("link-to-link.txt", "real/report.txt"), ("dangling.txt", "real/new.txt")] {
        let path = dir.path().join(link);
        if link != "dangling.txt" {
            fs::write(&target, "old").unwrap();
        }
        let output = onwatch_with_umask("022", &check_args(&path)).output().unwrap();
        assert_eq!(code(&output), 0, "{}", stderr(&output));
        assert!(fs::symlink_metadata(&path).unwrap().file_type().is_symlink(), "{link} is still a link");
        let report = fs::read_to_string(dir.path().join(file)).unwrap();
        assert!(report != "old" && report.len() > 100, "{file} holds the report: {report}");
    }
    assert_eq!(mode(&target), 0o640, "the target kept its mode");
    assert_eq!(mode(&dir.path().join("real/new.txt")), 0o644, "a new target honours the umask");
    let names: Vec<String> = tree(dir.path()).into_iter().map(|(name, value)| format!("{name} {}", value.lines().next().unwrap_or_default().chars().take(40).collect::<String>())).collect();
    assert_eq!(names.len(), 6, "the three links, the directory and its two files, no temporary: {names:#?}");
    assert!(names.iter().any(|n| n == "link.txt link real/report.txt"), "{names:#?}");
}

/// Defect 14 for the module: a generated file that is a symlink (say into a shared checkout) is
/// updated through the link, staged beside its target, and the link stays.
#[test]
fn defect_14_a_symlinked_module_file_updates_its_target() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    assert_eq!(code(&run(&generate_args(&example(), &out))), 0);
    let shared = dir.path().join("shared");
    fs::create_dir(&shared).unwrap();
    fs::rename(out.join("alarms.tf"), shared.join("alarms.tf")).unwrap();
    fs::set_permissions(shared.join("alarms.tf"), fs::Permissions::from_mode(0o640)).unwrap();
    symlink("../shared/alarms.tf", out.join("alarms.tf")).unwrap();
    let before = fs::read(shared.join("alarms.tf")).unwrap();
    let bigger = bigger_inventory(dir.path(), 40);
    let output = run(&generate_args(&bigger, &out));
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(fs::read_link(out.join("alarms.tf")).unwrap(), Path::new("../shared/alarms.tf"), "the link stays");
    let expected = module_of(&bigger, dir.path());
    assert_eq!(format!("file {}", fs::read_to_string(shared.join("alarms.tf")).unwrap()), expected["alarms.tf"], "its target holds the new file");
    assert_ne!(fs::read(shared.join("alarms.tf")).unwrap(), before);
    assert_eq!(mode(&shared.join("alarms.tf")), 0o640);
    assert_eq!(fs::read_dir(&shared).unwrap().count(), 1, "nothing left beside the target");
    let mut now = tree(&out);
    now.insert("alarms.tf".into(), expected["alarms.tf"].clone());
    assert_eq!(now, expected, "the rest of the module is the new one, no staging left");
}

fn copy_tree(from: &Path, to: &Path) {
    let _ = fs::remove_dir_all(to);
    for entry in walkdir::WalkDir::new(from).into_iter().map(|e| e.unwrap()) {
        let target = to.join(entry.path().strip_prefix(from).unwrap());
        if entry.file_type().is_dir() {
            fs::create_dir_all(&target).unwrap();
        } else {
            fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// When the test sends the signal: after a delay, or as soon as the staging directory appears.
#[derive(Debug, Clone, Copy)]
enum Moment {
    After(Duration),
    WhileStaging,
}

/// Waits until `out` holds a staging directory (or the run ended); true if one was seen.
fn wait_for_staging(out: &Path, child: &mut Child, limit: Duration) -> bool {
    let started = Instant::now();
    while started.elapsed() < limit && child.try_wait().unwrap().is_none() {
        if fs::read_dir(out).unwrap().any(|e| e.unwrap().file_name().to_string_lossy().starts_with(".onwatch-staging-")) {
            return true;
        }
        std::thread::sleep(Duration::from_micros(200));
    }
    false
}

/// SIGTERM (and SIGINT) while `generate` runs on a large inventory, at several moments and while
/// it stages the module: no `.tmp*` or `.onwatch-staging-*` is left in `--out`, the module is the
/// old one or the new one, whole, and the run exits 143 (130) unless it had already finished.
#[test]
fn a_signal_during_generate_leaves_no_temporary_and_a_whole_module() {
    let dir = tempfile::tempdir().unwrap();
    let large = bigger_inventory(dir.path(), 1000);
    let started = Instant::now();
    let new = module_of(&large, dir.path());
    let full = started.elapsed();
    let old_dir = dir.path().join("old");
    assert_eq!(code(&run(&generate_args(&example(), &old_dir))), 0);
    let old = tree(&old_dir);
    let out = dir.path().join("out");
    let mut moments: Vec<Moment> = [0.1, 0.4, 0.7, 0.9, 0.97].iter().map(|f| Moment::After(full.mul_f64(*f))).collect();
    moments.extend([Moment::WhileStaging; 3]);
    let (mut interrupted, mut while_staging) = (0, 0);
    for (attempt, moment) in moments.into_iter().enumerate() {
        copy_tree(&old_dir, &out);
        let (signal, exit) = if attempt == 1 { ("INT", 130) } else { ("TERM", 143) };
        let mut child = Command::new(env!("CARGO_BIN_EXE_onwatch"))
            .args(generate_args(&large, &out))
            .current_dir(root())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let staging_seen = match moment {
            Moment::After(delay) => {
                std::thread::sleep(delay);
                false
            }
            Moment::WhileStaging => wait_for_staging(&out, &mut child, full * 10 + Duration::from_secs(30)),
        };
        let killed = Command::new("kill").args(["-s", signal, &child.id().to_string()]).status().unwrap();
        let output = child.wait_with_output().unwrap();
        let now = tree(&out);
        eprintln!("{moment:?}: SIG{signal}, staging seen {staging_seen}, exit {}, {} module", code(&output), if now == old { "old" } else { "new" });
        assert!(now == old || now == new, "{moment:?}: neither the old nor the new module: {:?}", now.keys().filter(|k| k.contains('.')).collect::<Vec<_>>());
        match code(&output) {
            0 => assert_eq!(now, new, "{moment:?}: a finished run left the new module"),
            code if code == exit => {
                assert!(killed.success());
                interrupted += 1;
                while_staging += usize::from(staging_seen);
            }
            other => panic!("{moment:?}: SIG{signal} gave exit {other}: {}", stderr(&output)),
        }
    }
    assert!(interrupted >= 5, "most runs were interrupted, not finished: {interrupted}");
    assert!(while_staging >= 1, "at least one signal arrived while the module was staged");
}

/// Defect 14 for `scan --output`, against the emulator: a snapshot given as a link to a file with
/// mode 0640 is written through the link and keeps its mode.
#[test]
#[ignore = "conformance: needs the moto emulator; scripts/test.sh runs it"]
fn defect_14_scan_output_keeps_its_mode_through_a_link() {
    let emulator = crate::harness::Emulator::start();
    emulator.seed(&[]);
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("real")).unwrap();
    fs::write(dir.path().join("real/inventory.json"), "old").unwrap();
    fs::set_permissions(dir.path().join("real/inventory.json"), fs::Permissions::from_mode(0o640)).unwrap();
    symlink("real/inventory.json", dir.path().join("inventory.json")).unwrap();
    let result = crate::harness::onwatch(&["scan", "--endpoint-url", &emulator.endpoint, "--region", crate::harness::REGION, "--output", "inventory.json"], dir.path());
    assert_eq!(result.status.code(), Some(0), "{}", crate::harness::text(&result.stderr));
    assert!(fs::symlink_metadata(dir.path().join("inventory.json")).unwrap().file_type().is_symlink(), "the link stays");
    onwatch::snapshot::read(&dir.path().join("real/inventory.json")).expect("the target holds the snapshot");
    assert_eq!(mode(&dir.path().join("real/inventory.json")), 0o640);
    assert_eq!(fs::read_dir(dir.path().join("real")).unwrap().count(), 1, "no temporary left beside the target");
}
