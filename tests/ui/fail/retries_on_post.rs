apicall_macros::include_api_calls!("retries_on_post.yaml");

fn main() {}
