fn main() -> std::process::ExitCode {
    watchband::cli::main()
}
