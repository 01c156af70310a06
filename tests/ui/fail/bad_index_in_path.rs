apicall_macros::include_api_calls!("bad_index_in_path.yaml");

fn main() {}
