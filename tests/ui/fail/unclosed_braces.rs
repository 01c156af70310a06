apicall_macros::include_api_calls!("unclosed_braces.yaml");

fn main() {}
