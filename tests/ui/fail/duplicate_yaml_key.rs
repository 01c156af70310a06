apicall_macros::include_api_calls!("duplicate_yaml_key.yaml");

fn main() {}
