//! Reading calls.yaml: YAML with positions, the document's structure, and the two small
//! languages inside its strings (templates and response paths).

mod anchors;
mod core_schema;
pub(crate) mod document;
pub(crate) mod lines;
pub(crate) mod path;
mod syntax_error;
pub(crate) mod template;
pub(crate) mod yaml;
