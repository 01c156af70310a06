apicall_macros::include_api_calls!("no_api_calls_key.yaml");

fn main() {}
