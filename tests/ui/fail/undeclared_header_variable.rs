apicall_macros::include_api_calls!("undeclared_header_variable.yaml");

fn main() {}
