apicall_macros::include_api_calls!("not_a_mapping.yaml");

fn main() {}
