apicall_macros::include_api_calls!("empty_file.yaml");

fn main() {}
