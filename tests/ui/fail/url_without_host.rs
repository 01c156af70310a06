apicall_macros::include_api_calls!("url_without_host.yaml");

fn main() {}
