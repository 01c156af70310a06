apicall_macros::include_api_calls!("variables_not_a_mapping.yaml");

fn main() {}
