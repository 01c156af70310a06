apicall_macros::include_api_calls!("not_a_variable_name.yaml");

fn main() {}
