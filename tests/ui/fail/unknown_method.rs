apicall_macros::include_api_calls!("unknown_method.yaml");

fn main() {}
