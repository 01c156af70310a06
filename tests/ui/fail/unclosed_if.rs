apicall_macros::include_api_calls!("unclosed_if.yaml");

fn main() {}
