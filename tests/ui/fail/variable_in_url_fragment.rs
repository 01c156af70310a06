apicall_macros::include_api_calls!("variable_in_url_fragment.yaml");

fn main() {}
