apicall_macros::include_api_calls!("secret_with_a_type.yaml");

fn main() {}
