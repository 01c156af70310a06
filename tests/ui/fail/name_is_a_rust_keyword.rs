apicall_macros::include_api_calls!("name_is_a_rust_keyword.yaml");

fn main() {}
