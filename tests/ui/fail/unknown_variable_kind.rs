apicall_macros::include_api_calls!("unknown_variable_kind.yaml");

fn main() {}
