apicall_macros::include_api_calls!("tool_name_too_long.yaml");

fn main() {}
