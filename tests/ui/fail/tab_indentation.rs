apicall_macros::include_api_calls!("tab_indentation.yaml");

fn main() {}
