//! The input-format properties of `fuzz::` again, in a child process under an address-space
//! limit (`prlimit --as`, util-linux): an input that makes a reader allocate without bound aborts
//! the child and fails here, where the parent process would have had the whole machine.

use std::process::Command;

/// Room for the test binary, its threads and the allocator's arenas, with the readers' own use
/// of a few hundred megabytes on these inputs; the defects of issue 15 allocated 4 to 6 GB.
const ADDRESS_SPACE_LIMIT: u64 = 3 << 30;

#[test]
fn the_input_format_properties_hold_under_a_3_gib_address_space_limit() {
    let output = Command::new("prlimit")
        .arg(format!("--as={ADDRESS_SPACE_LIMIT}"))
        .arg("--")
        .arg(std::env::current_exe().unwrap())
        .args(["fuzz::", "--include-ignored", "--test-threads=1"])
        .env("ONWATCH_FUZZ_CASES", super::fuzz::cases().to_string())
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("prlimit (util-linux) runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "the properties failed or aborted under the limit ({:?}):\n{stdout}\n{}", output.status, String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains("test result: ok. 8 passed"), "the child ran every property:\n{stdout}");
}
