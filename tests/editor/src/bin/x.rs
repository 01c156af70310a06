//! The macro invoked from `src/bin/x.rs`, with a path relative to this file.

mod calls {
    apicall_macros::include_api_calls!("../calls.yaml");
}

fn main() {
    let api = calls::ApiValues::default();
    let probe: u32 = api.customer_name;
    println!("{probe}");
}
