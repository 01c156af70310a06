apicall_macros::include_api_calls!("key_not_a_name.yaml");

fn main() {}
