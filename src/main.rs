// mimalloc: the inventory is millions of small strings, parsed on every core at once; glibc's
// allocator spends a fifth of a merge freeing them, and musl's (the static binary) is slower still.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    onwatch::cli::main()
}
