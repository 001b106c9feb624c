//! The `gasket` command; see `gasket --help`.

fn main() -> std::process::ExitCode {
    gasket_apps::cli::main()
}
