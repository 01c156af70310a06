apicall_macros::include_api_calls!("empty_braces.yaml");

fn main() {}
