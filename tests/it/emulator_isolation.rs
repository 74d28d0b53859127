//! The shared emulator (tests/it/harness.rs): every `Emulator::start` is an account of its own on
//! one server, so tests running side by side cannot see each other's resources.

use onwatch::model::Inventory;

use crate::harness::{onwatch, text, Emulator, REGION};

fn scan(emulator: &Emulator) -> Inventory {
    let dir = tempfile::tempdir().unwrap();
    let output = onwatch(&["scan", "--endpoint-url", &emulator.endpoint, "--region", REGION, "--output", "inventory.json"], dir.path());
    assert_eq!(output.status.code(), Some(0), "{}\nemulator:\n{}", text(&output.stderr), emulator.stderr());
    onwatch::snapshot::read(&dir.path().join("inventory.json")).unwrap()
}

#[test]
#[ignore = "conformance: needs the moto emulator; scripts/test.sh runs it"]
fn two_emulators_are_two_accounts_that_do_not_see_each_other() {
    let (a, b) = (Emulator::start(), Emulator::start());
    assert_ne!(a.account, b.account);
    a.seed(&["--bench-resources", "3"]);
    b.seed(&["--bench-resources", "1", "--bench-alarms", "1"]);
    let (in_a, in_b) = (scan(&a), scan(&b));
    for (emulator, inventory, queues, alarms) in [(&a, &in_a, 3, 0), (&b, &in_b, 1, 1)] {
        let scopes: Vec<&str> = inventory.scopes.iter().map(|s| s.account.as_str()).collect();
        assert_eq!(scopes, [emulator.account.as_str()], "the scan names the account it read");
        let arns: Vec<&str> = inventory.resources.iter().map(|r| r.arn.as_str()).collect();
        assert_eq!(arns.len(), queues, "account {}: {arns:?}", emulator.account);
        for arn in &arns {
            assert!(arn.starts_with(&format!("arn:aws:sqs:{REGION}:{}:bench-", emulator.account)), "account {}: {arn}", emulator.account);
        }
        assert_eq!(inventory.alarms.len(), alarms, "account {}: {:?}", emulator.account, inventory.alarms);
    }
    // A third account, never seeded, is empty although the other two are full.
    let c = Emulator::start();
    let empty = scan(&c);
    assert!(empty.resources.is_empty() && empty.alarms.is_empty(), "{:?} {:?}", empty.resources, empty.alarms);
}
