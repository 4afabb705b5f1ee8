fn main() -> std::process::ExitCode {
    kbundle::cli::main()
}
