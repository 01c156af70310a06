apicall_macros::include_api_calls!("not_utf8.yaml");

fn main() {}
