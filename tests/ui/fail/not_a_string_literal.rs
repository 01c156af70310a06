apicall_macros::include_api_calls!(calls);

fn main() {}
