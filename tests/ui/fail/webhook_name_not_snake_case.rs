apicall_macros::include_api_calls!("webhook_name_not_snake_case.yaml");

fn main() {}
