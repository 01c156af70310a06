apicall_macros::include_api_calls!("webhooks_unknown_event.yaml");

fn main() {}
