//! What several test binaries share; each uses only part of it.
#![allow(dead_code, unused_imports)]

pub(crate) mod oauth2_server;
