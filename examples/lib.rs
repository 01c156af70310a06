//! The seed calls.yaml compiled by `build.rs`, for the examples and tests in this workspace.
#![deny(warnings)]
#![warn(clippy::pedantic)]

include!(concat!(env!("OUT_DIR"), "/calls.rs"));
