apicall_macros::include_api_calls!("unknown_key.yaml");

fn main() {}
