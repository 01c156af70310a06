apicall_macros::include_api_calls!("secret_not_a_boolean.yaml");

fn main() {}
