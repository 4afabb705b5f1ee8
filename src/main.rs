// Parsing allocates many small strings on every worker thread; mimalloc does that markedly
// faster than glibc's allocator (see bench/validate).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    kbundle::cli::main()
}
