//! Reading calls.yaml: YAML with positions, the document's structure, and the two small
//! languages inside its strings (templates and response paths).

mod anchors;
pub(crate) mod document;
pub(crate) mod lines;
pub(crate) mod path;
pub(crate) mod template;
pub(crate) mod yaml;
