apicall_macros::include_api_calls!("invalid_yaml.yaml");

fn main() {}
