//! What the integration binary and `auth_traces.rs` share; each uses only part of it.
#![allow(dead_code, unused_imports)]

pub(crate) mod oauth2_server;
