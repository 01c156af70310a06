//! Rules for response variables: each names a path into the JSON response and the `api.*`
//! value it fills, and every call that fills one value gives it the same type.

use super::*;

impl Checker<'_, '_> {
    /// The `api.*` values: the response variables of every call, gathered before any call is
    /// checked so prompts and later calls can refer to any of them.
    pub(super) fn api_values(&mut self, document: &Document) {
        for decl in document
            .calls
            .iter()
            .flat_map(|call| &call.response_variables)
        {
            let Some(variable) = &decl.variable else {
                continue;
            };
            if !self.name(variable, "response variable") {
                continue;
            }
            let ty = match &decl.ty {
                None => ir::ValueType::String,
                Some(ty) => match self.value_type(ty) {
                    Some(ty) => ty,
                    None => continue,
                },
            };
            match self.api_index.get(&variable.value).copied() {
                Some(first) => self.extracted_as_one_type(variable, ty, first),
                None => {
                    (self.api_index).insert(variable.value.clone(), self.api_values.len());
                    (self.api_values).push((variable.value.clone(), ty, variable.pos));
                }
            }
        }
    }

    /// Every call that extracts one `api.*` value extracts it as the same type, the type of
    /// the one field in the conversation's state. `first` is the value's index.
    fn extracted_as_one_type(&mut self, variable: &Text, ty: ir::ValueType, first: usize) {
        let (_, first_ty, first_pos) = self.api_values[first];
        if first_ty == ty {
            return;
        }
        self.report
            .error(
                variable.pos,
                format!(
                    "response variable `{}` is extracted as {} here but as {} at line {}",
                    variable.value,
                    ty.as_str(),
                    first_ty.as_str(),
                    first_pos.line
                ),
            )
            .help("give both the same `type`, or give one a different `variable` name");
    }

    /// One call's response variables, each with a path that parses and a name it extracts
    /// once.
    pub(super) fn responses(&mut self, decl: &CallDecl) -> Vec<ir::ResponseVar> {
        let mut responses: Vec<ir::ResponseVar> = Vec::new();
        for variable in &decl.response_variables {
            let Some((path_text, name)) = self.response_variable_has_fields(variable) else {
                continue;
            };
            let Some(path) = self.path_parses(path_text) else {
                continue;
            };
            let found = self.api_index.get(&name.value).copied();
            let Some((_, ty, _)) = found.map(|index| &self.api_values[index]) else {
                // Already reported while gathering the `api.*` values (bad name or type).
                continue;
            };
            let ty = *ty;
            if !self.extracted_once(name, &responses) {
                continue;
            }
            responses.push(ir::ResponseVar {
                name: name.value.clone(),
                path,
                ty,
                required: variable.required,
            });
        }
        responses
    }

    /// A response variable has a `path` and a `variable`.
    fn response_variable_has_fields<'d>(
        &mut self,
        decl: &'d ResponseVarDecl,
    ) -> Option<(&'d Text, &'d Text)> {
        let Some(path) = &decl.path else {
            self.report
                .error(
                    decl.pos,
                    "this response variable is missing the required field `path`",
                )
                .help("add `path: customer.name`, where the value sits in the JSON response");
            return None;
        };
        let Some(variable) = &decl.variable else {
            self.report
                .error(
                    decl.pos,
                    "this response variable is missing the required field `variable`",
                )
                .help(
                    "add `variable: customer_name`, the name prompts use as `{{api.customer_name}}`",
                );
            return None;
        };
        Some((path, variable))
    }

    /// A response path parses (`customer.name`, `items[0].eta`, `"a.b".c`).
    fn path_parses(&mut self, path: &Text) -> Option<Vec<path::Segment>> {
        match path::parse(&path.value) {
            Ok(segments) => Some(segments),
            Err(error) => {
                let pos = path.pos_at(error.offset);
                self.report
                    .error(pos, format!("invalid path: {}", error.message));
                None
            }
        }
    }

    /// A call extracts each response variable once.
    fn extracted_once(&mut self, name: &Text, so_far: &[ir::ResponseVar]) -> bool {
        if !so_far.iter().any(|r| r.name == name.value) {
            return true;
        }
        self.report
            .error_spanning(
                name.pos,
                name.width(),
                format!("this call extracts `{}` twice", name.value),
            )
            .help("each response variable of a call needs its own name");
        false
    }
}
