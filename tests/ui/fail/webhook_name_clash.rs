apicall_macros::include_api_calls!("webhook_name_clash.yaml");

fn main() {}
