//! Nothing: the crate exists for its test, `tests/compile_fail.rs`, whose cases are in
//! `../tests/ui`.
