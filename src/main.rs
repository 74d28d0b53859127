fn main() -> std::process::ExitCode {
    onwatch::cli::main()
}
