//! Many conversations in one process: 10,000 concurrent sessions, each with one call in flight.
//!
//! Run: `cargo bench -p apicall-benches --bench sessions`

fn main() {}
