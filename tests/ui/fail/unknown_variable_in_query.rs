apicall_macros::include_api_calls!("unknown_variable_in_query.yaml");

fn main() {}
