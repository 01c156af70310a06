apicall_macros::include_api_calls!("body_key_not_a_string.yaml");

fn main() {}
