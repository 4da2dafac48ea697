//! The `dauth-proxy` binary: everything is in the library's [`dauth_proxy::cli`].
//!
//! The binary allocates with jemalloc. With glibc's malloc the HTTP/1 buffers that a parked
//! connection gives back stay resident between the small allocations that outlive them: 10,000
//! idle keep-alive connections held 88 MB, with jemalloc 62 MB, and the plain proxy path costs
//! about 5% less CPU (README, Performance). Its options are compiled in from
//! `.cargo/config.toml`: a background thread returns freed pages within a second, so what parked
//! connections give back leaves the resident set while the gateway is idle (tests/allocator.rs).
//! The library leaves the allocator to its user.

#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> std::process::ExitCode {
    dauth_proxy::cli::main()
}
