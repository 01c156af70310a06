//! A binary crate that includes what build.rs generated for every fixture and uses almost none
//! of it. With `deny(warnings)`, a generated item a binary can leave unused that still warns
//! (`dead_code`: "function is never used") fails the build of this target, which `cargo test`
//! and `cargo clippy --all-targets` both build.
#![deny(warnings)]
#![warn(clippy::pedantic)]

mod seed {
    include!(concat!(env!("OUT_DIR"), "/calls.rs"));
}

mod language {
    include!(concat!(env!("OUT_DIR"), "/language.rs"));
}

mod webhooks {
    include!(concat!(env!("OUT_DIR"), "/webhooks.rs"));
}

mod prompts {
    include!(concat!(env!("OUT_DIR"), "/prompts.rs"));
}

fn main() {
    // One item of one file, as a binary using one call would.
    println!("{} tools", seed::TOOLS.len());
}
