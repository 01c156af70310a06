//! The macro's front door: a valid file compiles cleanly, and each mistake is a compile error
//! that names the YAML file, line and column (see the `.stderr` beside each case).

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.pass("ui/pass/*.rs");
    cases.compile_fail("ui/fail/*.rs");
}
