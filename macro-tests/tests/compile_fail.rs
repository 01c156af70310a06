//! The macro's front door: a valid file compiles cleanly, and a mistake is a compile error
//! that names the YAML file, line and column, at the macro's invocation (see the `.stderr`
//! beside each case). Only what needs the macro itself is built here: a missing or non-UTF-8
//! file, an argument that is not a string literal, recovery beside the errors, and one case of
//! each kind of diagnostic path. Every `tests/ui/fail/*.yaml` (one per diagnostic) is checked
//! in-process by apicall-build/tests/ui_cases.rs, which prints exactly what the macro prints.
//!
//! trybuild compiles the cases in a Cargo project of its own (under target/tests/trybuild),
//! which builds every dependency again, so this test is most of what the tests cost from a
//! clean checkout. Three things keep that to one cheap build:
//! - It lives in a crate of its own with only the cases' dependencies: trybuild's project
//!   depends on the testing crate's dependencies *and dev-dependencies*, which for the `tests`
//!   crate was the whole integration-test stack (wiremock, axum, jsonschema, async-openai...).
//!   Not in apicall-macros either: a proc-macro crate's tests are built for the host, and with
//!   them the runtime's whole stack a second time.
//! - trybuild (since 1.0.115) builds the dependencies with one set of rustflags and the cases
//!   with another (`--diagnostic-width=140` added); rustflags are part of every artifact's
//!   hash, so each dependency was compiled twice. `CARGO_ENCODED_RUSTFLAGS` takes precedence
//!   over the flags trybuild passes with `--config`, so both builds get trybuild's full set.
//! - Its project does not inherit this workspace's `[profile.dev]`; without debug info, as the
//!   workspace builds its dependencies, they compile and link faster.

use std::env;

/// The rustflags trybuild 1.0.122 passes when it builds the cases (src/rustflags.rs and
/// src/cargo.rs): `--cfg trybuild` for the cases, `--verbose`, dead code allowed, and the
/// diagnostic width the `.stderr` files are written at.
const TRYBUILD_RUSTFLAGS: &[&str] = &[
    "--cfg",
    "trybuild",
    "--verbose",
    "-A",
    "dead_code",
    "--diagnostic-width=140",
];

#[test]
fn ui() {
    // A caller's own flags (coverage, say) are left for trybuild to handle as it does.
    let flags_given = env::var_os("RUSTFLAGS").is_some()
        || env::var_os("CARGO_ENCODED_RUSTFLAGS").is_some_and(|flags| !flags.is_empty());
    // SAFETY: this is the binary's only test, and trybuild has not started: no other thread
    // reads or writes the environment.
    unsafe {
        if !flags_given {
            env::set_var("CARGO_ENCODED_RUSTFLAGS", TRYBUILD_RUSTFLAGS.join("\x1f"));
        }
        if env::var_os("CARGO_PROFILE_DEV_DEBUG").is_none() {
            env::set_var("CARGO_PROFILE_DEV_DEBUG", "false");
        }
    }
    let cases = trybuild::TestCases::new();
    cases.pass("../tests/ui/pass/*.rs");
    cases.compile_fail("../tests/ui/fail/*.rs");
}
