//! The runtime against real servers on 127.0.0.1, one module per subject. One binary instead
//! of one per file: each binary linked its own copy of the HTTP stack, which cost a build
//! about 30 s and half a gigabyte of disk. Tests that capture traces stay in binaries of their
//! own (`auth_traces.rs`, `secrets.rs`): tracing caches each callsite's interest process-wide,
//! so a test beside them with no subscriber could have their events cached as unwanted.

mod support;

mod auth_mtls;
mod auth_oauth2;
mod auth_signing;
mod compression;
mod empty_bodies;
mod failures;
mod redirects;
mod shared_client;
mod speaking;
mod user_agent;
mod webhook_delivery;
