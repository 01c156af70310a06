apicall_macros::include_api_calls!("response_variable_extracted_twice.yaml");

fn main() {}
