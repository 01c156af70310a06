apicall_macros::include_api_calls!("get_with_body.yaml");

fn main() {}
