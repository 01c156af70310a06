apicall_macros::include_api_calls!("url_not_http.yaml");

fn main() {}
