apicall_macros::include_api_calls!("missing_url.yaml");

fn main() {}
