apicall_macros::include_api_calls!("empty_enum.yaml");

fn main() {}
