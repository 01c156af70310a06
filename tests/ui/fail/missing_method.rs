apicall_macros::include_api_calls!("missing_method.yaml");

fn main() {}
