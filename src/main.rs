//! The `dauth-proxy` binary: everything is in the library's [`dauth_proxy::cli`].

fn main() -> std::process::ExitCode {
    dauth_proxy::cli::main()
}
