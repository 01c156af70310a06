apicall_macros::include_api_calls!("response_variable_type_conflict.yaml");

fn main() {}
