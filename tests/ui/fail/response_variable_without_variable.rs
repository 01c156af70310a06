apicall_macros::include_api_calls!("response_variable_without_variable.yaml");

fn main() {}
