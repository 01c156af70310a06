apicall_macros::include_api_calls!("name_not_a_string.yaml");

fn main() {}
