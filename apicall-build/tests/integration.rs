//! The compiler from outside, as the macro, build.rs and the CLI use it: one module per
//! subject, in one binary, because each binary of its own linked the compiler again.

mod bad_input;
mod builder;
mod diagnostics;
mod never_panics;
mod readme;
mod robustness;
mod schema;
mod seed_snapshot;
mod static_checks;
mod ui_cases;
mod yaml_reading;
