apicall_macros::include_api_calls!("enum_with_a_non_string_type.yaml");

fn main() {}
