//! Test-only crate: see the files beside this one. The build.rs-generated code for each fixture
//! is compiled here, so `cargo clippy` checks it as a user's crate would.
#![deny(warnings)]
#![warn(clippy::pedantic)]

/// The seed, `examples/calls.yaml`.
pub mod seed {
    include!(concat!(env!("OUT_DIR"), "/calls.rs"));
}

/// Every language feature, `fixtures/language.yaml`.
pub mod language {
    include!(concat!(env!("OUT_DIR"), "/language.rs"));
}

/// Post-call webhooks, `fixtures/webhooks.yaml`.
pub mod webhooks {
    include!(concat!(env!("OUT_DIR"), "/webhooks.rs"));
}

/// Spoken messages while a call runs, `fixtures/messages.yaml`.
pub mod messages {
    include!(concat!(env!("OUT_DIR"), "/messages.rs"));
}

/// `auth:` schemes (client credentials, Basic, request signing), `fixtures/auth.yaml`.
pub mod auth {
    include!(concat!(env!("OUT_DIR"), "/auth.rs"));
}

/// Async calls (`execution: async`), `fixtures/background.yaml`.
pub mod background {
    include!(concat!(env!("OUT_DIR"), "/background.rs"));
}

/// `{{#if}}` over every kind of value, `fixtures/prompts.yaml`.
pub mod prompts {
    include!(concat!(env!("OUT_DIR"), "/prompts.rs"));
}

/// Integer enums, arrays and objects as parameters, `fixtures/parameters.yaml`.
pub mod parameters {
    include!(concat!(env!("OUT_DIR"), "/parameters.rs"));
}
