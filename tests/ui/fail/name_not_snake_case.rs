apicall_macros::include_api_calls!("name_not_snake_case.yaml");

fn main() {}
