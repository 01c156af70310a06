//! Rules for LLM parameters: names, types, enums (of strings or integers), and arrays and
//! objects, which nest up to [`MAX_PARAM_DEPTH`] levels.

use super::*;

/// The types a parameter may have.
const PARAM_TYPES: &[&str] = &["string", "integer", "number", "boolean", "array", "object"];
/// How deep arrays and objects nest: an array of objects whose members are arrays is as deep
/// as it goes. LLMs fill deeper structures poorly, and strict tool schemas limit nesting.
pub(crate) const MAX_PARAM_DEPTH: usize = 3;

/// Where a parameter is: its call, its path of names from the top (which names its generated
/// types), and how many arrays and objects it is inside.
#[derive(Clone, Copy)]
struct At<'p> {
    call: &'p str,
    path: &'p [&'p str],
    depth: usize,
}

impl Checker<'_, '_> {
    /// A call's LLM parameters, each named well and once. A bad type is reported; a string
    /// stand-in keeps `{{collected.x}}` resolving.
    pub(super) fn params(&mut self, decl: &CallDecl) -> Vec<(ir::Param, Pos)> {
        let call = decl
            .name
            .as_ref()
            .map_or("call", |name| name.value.as_str());
        let at = At {
            call,
            path: &[],
            depth: 0,
        };
        self.param_list(&decl.parameters, at, "parameter")
    }

    /// A list of parameters (or of an object's properties), each named well and once.
    fn param_list(&mut self, decls: &[ParamDecl], at: At<'_>, what: &str) -> Vec<(ir::Param, Pos)> {
        let mut params = Vec::new();
        let mut seen = HashMap::new();
        for decl in decls {
            let Some(name) = self.param_has_name(decl, what) else {
                continue;
            };
            if !self.name(name, what)
                || !self.param_name_fits(name)
                || !self.defined_once(name, what, &mut seen)
            {
                continue;
            }
            let mut path = at.path.to_vec();
            path.push(&name.value);
            let inner = At { path: &path, ..at };
            let ty = (self.param_type(decl, inner))
                .unwrap_or(ir::ParamType::Value(ir::ValueType::String));
            let param = ir::Param {
                name: name.value.clone(),
                description: decl.description.as_ref().map(|d| d.value.clone()),
                ty,
                required: decl.required,
            };
            params.push((param, name.pos));
        }
        params
    }

    /// A parameter (or property) has a `name`.
    fn param_has_name<'d>(&mut self, decl: &'d ParamDecl, what: &str) -> Option<&'d Text> {
        if decl.name.is_none() {
            self.report
                .error(
                    decl.pos,
                    format!("this {what} is missing the required field `name`"),
                )
                .help("add `name: order_id` (a snake_case identifier)");
        }
        decl.name.as_ref()
    }

    /// A parameter's type: its `type` (a string when left out), the choices of its `enum`,
    /// an array of its `items`, or an object of its `properties`.
    fn param_type(&mut self, decl: &ParamDecl, at: At<'_>) -> Option<ir::ParamType> {
        let ty = decl.ty.as_ref();
        if let Some(ty) = ty
            && !self.param_type_is_known(ty)
        {
            return None;
        }
        let items_ok = self.items_only_for_arrays(decl);
        let properties_ok = self.properties_only_for_objects(decl);
        match ty.map(|t| t.value.as_str()) {
            Some(kind @ ("array" | "object")) => {
                let ty = ty?;
                let fits = self.enum_not_on_a_composite(decl, ty)
                    & self.nesting_not_too_deep(ty, at)
                    & items_ok
                    & properties_ok;
                if kind == "array" {
                    let items = self.array_has_items(decl, ty)?;
                    let inner = At {
                        depth: at.depth + 1,
                        ..at
                    };
                    let items = self.param_type(items, inner)?;
                    fits.then(|| ir::ParamType::Array(Box::new(items)))
                } else {
                    let properties = self.object_has_properties(decl, ty)?;
                    let inner = At {
                        depth: at.depth + 1,
                        ..at
                    };
                    let fields = self.param_list(properties, inner, "property");
                    fits.then(|| ir::ParamType::Object {
                        type_name: crate::names::param_type(at.call, at.path),
                        fields: fields.into_iter().map(|(field, _)| field).collect(),
                    })
                }
            }
            _ => {
                let value = match ty {
                    None => ir::ValueType::String,
                    Some(ty) => self.value_type(ty)?,
                };
                let ty = self.scalar_type(decl, value, at)?;
                (items_ok && properties_ok).then_some(ty)
            }
        }
    }

    /// A parameter's `type` is string, integer, number, boolean, array or object.
    fn param_type_is_known(&mut self, ty: &Text) -> bool {
        if PARAM_TYPES.contains(&ty.value.as_str()) {
            return true;
        }
        let help = did_you_mean(&ty.value, PARAM_TYPES.iter().copied())
            .unwrap_or_else(|| "use string, integer, number, boolean, array or object".to_owned());
        self.report
            .error_spanning(ty.pos, ty.width(), format!("unknown type `{}`", ty.value))
            .help(help);
        false
    }

    /// A scalar parameter, or the enum of its `enum:` choices.
    fn scalar_type(
        &mut self,
        decl: &ParamDecl,
        ty: ir::ValueType,
        at: At<'_>,
    ) -> Option<ir::ParamType> {
        let Some((choices, pos)) = &decl.choices else {
            return Some(ir::ParamType::Value(ty));
        };
        if !self.enum_is_a_string_or_integer(decl, ty, *pos)
            || !self.enum_is_not_empty(choices, *pos)
        {
            return None;
        }
        let type_name = crate::names::param_type(at.call, at.path);
        if ty == ir::ValueType::Integer {
            let choices = self.integer_choices(choices)?;
            return Some(ir::ParamType::IntegerEnum { type_name, choices });
        }
        let choices = self.enum_choices_distinct(choices)?;
        Some(ir::ParamType::Enum { type_name, choices })
    }

    /// `items:` belongs to `type: array`.
    fn items_only_for_arrays(&mut self, decl: &ParamDecl) -> bool {
        let Some((_, pos)) = &decl.items else {
            return true;
        };
        if decl.ty.as_ref().is_some_and(|ty| ty.value == "array") {
            return true;
        }
        self.report
            .error_spanning(*pos, "items".len(), "`items` is only for `type: array`")
            .help("add `type: array`, or remove `items:`");
        false
    }

    /// `properties:` belongs to `type: object`.
    fn properties_only_for_objects(&mut self, decl: &ParamDecl) -> bool {
        let Some((_, pos)) = &decl.properties else {
            return true;
        };
        if decl.ty.as_ref().is_some_and(|ty| ty.value == "object") {
            return true;
        }
        self.report
            .error_spanning(
                *pos,
                "properties".len(),
                "`properties` is only for `type: object`",
            )
            .help("add `type: object`, or remove `properties:`");
        false
    }

    /// An array or object has no `enum:`: the choices belong to its items or properties.
    fn enum_not_on_a_composite(&mut self, decl: &ParamDecl, ty: &Text) -> bool {
        let Some((_, pos)) = &decl.choices else {
            return true;
        };
        self.report
            .error(
                *pos,
                format!("a `type: {}` parameter has no `enum`", ty.value),
            )
            .help("for an array of choices, put `enum:` under `items:`");
        false
    }

    /// Arrays and objects nest at most [`MAX_PARAM_DEPTH`] deep.
    fn nesting_not_too_deep(&mut self, ty: &Text, at: At<'_>) -> bool {
        if at.depth < MAX_PARAM_DEPTH {
            return true;
        }
        self.report
            .error_spanning(
                ty.pos,
                ty.width(),
                format!("arrays and objects nest at most {MAX_PARAM_DEPTH} levels deep"),
            )
            .help("flatten the parameter: LLMs fill deep structures poorly");
        false
    }

    /// An array says what its items are.
    fn array_has_items<'d>(&mut self, decl: &'d ParamDecl, ty: &Text) -> Option<&'d ParamDecl> {
        if decl.items.is_none() {
            self.report
                .error_spanning(ty.pos, ty.width(), "an array needs `items:`")
                .help("for example `items: string`, or `items: { enum: [small, large] }`");
        }
        decl.items.as_ref().map(|(items, _)| &**items)
    }

    /// An object lists its `properties:`, at least one.
    fn object_has_properties<'d>(
        &mut self,
        decl: &'d ParamDecl,
        ty: &Text,
    ) -> Option<&'d [ParamDecl]> {
        match &decl.properties {
            Some((properties, _)) if !properties.is_empty() => Some(properties),
            _ => {
                self.report
                    .error_spanning(ty.pos, ty.width(), "an object needs `properties:`")
                    .help("list its members like `parameters:`, e.g. `- name: street`");
                None
            }
        }
    }

    /// An `enum` parameter is a string or an integer: its `type`, if any, says which.
    fn enum_is_a_string_or_integer(
        &mut self,
        decl: &ParamDecl,
        ty: ir::ValueType,
        enum_pos: Pos,
    ) -> bool {
        if matches!(ty, ir::ValueType::String | ir::ValueType::Integer) {
            return true;
        }
        let ty_pos = decl.ty.as_ref().map_or(enum_pos, |t| t.pos);
        self.report
            .error(
                ty_pos,
                "an `enum` parameter is a string or an integer: its `type` must be `string` or \
                 `integer`",
            )
            .help("remove `type:` for strings, or write `type: integer`");
        false
    }

    /// An `enum` has at least one value.
    fn enum_is_not_empty(&mut self, choices: &[Text], pos: Pos) -> bool {
        if !choices.is_empty() {
            return true;
        }
        self.report
            .error(pos, "`enum` needs at least one value")
            .help("for example `enum: [standard, express]`");
        false
    }

    /// The values of an `enum` are distinct, and so are the Rust variants they become.
    fn enum_choices_distinct(&mut self, choices: &[Text]) -> Option<Vec<ir::EnumChoice>> {
        let mut out: Vec<ir::EnumChoice> = Vec::new();
        let mut ok = true;
        for choice in choices {
            let variant = enum_variant(&choice.value);
            let Some(clash) = out.iter().find(|c| c.variant == variant) else {
                out.push(ir::EnumChoice {
                    value: choice.value.clone(),
                    variant,
                });
                continue;
            };
            let message = if clash.value == choice.value {
                format!("`{}` is listed twice in `enum`", choice.value)
            } else {
                format!(
                    "`{}` and `{}` would both be named `{variant}` in Rust",
                    clash.value, choice.value
                )
            };
            (self.report).error_spanning(choice.pos, choice.width().max(1), message);
            ok = false;
        }
        ok.then_some(out)
    }

    /// The values of an integer `enum` are distinct integers (64-bit).
    fn integer_choices(&mut self, choices: &[Text]) -> Option<Vec<ir::IntegerChoice>> {
        let mut out: Vec<ir::IntegerChoice> = Vec::new();
        let mut ok = true;
        for choice in choices {
            let width = choice.width().max(1);
            let Ok(value) = choice.value.parse::<i64>() else {
                self.report
                    .error_spanning(
                        choice.pos,
                        width,
                        format!("`{}` is not an integer", choice.value),
                    )
                    .help("an integer `enum` lists whole numbers, like `enum: [10, 12, 14]`");
                ok = false;
                continue;
            };
            if out.iter().any(|c| c.value == value) {
                let message = format!("`{value}` is listed twice in `enum`");
                self.report.error_spanning(choice.pos, width, message);
                ok = false;
                continue;
            }
            out.push(ir::IntegerChoice {
                value,
                variant: integer_variant(value),
            });
        }
        ok.then_some(out)
    }
}

/// `express-2day` → `Express2day`; a value with no letters or digits, or starting with a
/// digit, gets a `V` in front so it is still an identifier.
pub(super) fn enum_variant(value: &str) -> String {
    let mut variant = String::new();
    for word in value
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        let mut chars = word.chars();
        if let Some(first) = chars.next() {
            variant.push(first.to_ascii_uppercase());
            variant.push_str(chars.as_str());
        }
    }
    if variant.is_empty() || variant.starts_with(|c: char| c.is_ascii_digit()) {
        variant.insert(0, 'V');
    }
    if variant == "Self" {
        variant.push('_');
    }
    variant
}

/// `10` → `V10`, `-1` → `Minus1`: distinct integers, distinct variants.
fn integer_variant(value: i64) -> String {
    if value < 0 {
        format!("Minus{}", value.unsigned_abs())
    } else {
        format!("V{value}")
    }
}

/// Where text with variables goes: an array or object parameter has no text form.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum TextPlace {
    Url,
    Header,
    /// A `query:` value, where a whole array of scalars repeats the key.
    Query,
    /// A string in a JSON body, where a whole array or object is sent as JSON.
    BodyText,
}

impl Checker<'_, '_> {
    /// An array or object parameter is only where it can go whole: the whole of a body string
    /// (sent as JSON), or the whole of a query value (an array of strings, numbers, booleans
    /// or enums, which repeats the key). Never in a URL or a header.
    pub(super) fn composites_fit(
        &mut self,
        text: &Text,
        template: &ir::RequestTemplate,
        params: &[(ir::Param, Pos)],
        place: TextPlace,
    ) -> bool {
        let composite = |var: &ir::Var| match var {
            ir::Var::Collected(i) => params.get(*i).filter(|(p, _)| p.ty.is_composite()),
            _ => None,
        };
        if let (TextPlace::Query, [ir::RequestPiece::Var(var)]) = (place, template.as_slice())
            && let Some((param, _)) = composite(var)
            && matches!(&param.ty, ir::ParamType::Array(items) if !items.is_composite())
        {
            return true;
        }
        let mut fits = true;
        for piece in template {
            let ir::RequestPiece::Var(var) = piece else {
                continue;
            };
            let Some((param, _)) = composite(var) else {
                continue;
            };
            fits = false;
            let var_ref = self
                .var_refs(text)
                .find(|r| r.namespace == Namespace::Collected && r.name == param.name);
            let (pos, width) = var_ref.map_or((text.pos, 1), |r| {
                (
                    text.pos_at(r.offset),
                    text.width_of(r.offset, r.len).unwrap_or(1),
                )
            });
            let kind = if matches!(param.ty, ir::ParamType::Array(_)) {
                "an array"
            } else {
                "an object"
            };
            let spelled = format!("{{{{collected.{}}}}}", param.name);
            let (message, help) = match place {
                TextPlace::Url => (
                    format!("`{spelled}` is {kind}: it cannot be in a URL"),
                    "send it in the JSON body; an array of plain values can also repeat a \
                     `query:` key"
                        .to_owned(),
                ),
                TextPlace::Header => (
                    format!("`{spelled}` is {kind}: it cannot be in a header"),
                    "send it in the JSON body".to_owned(),
                ),
                TextPlace::Query if matches!(param.ty, ir::ParamType::Array(_)) => (
                    format!(
                        "`{spelled}` repeats a query key only as the whole value, and only \
                         when its items are strings, numbers, booleans or enums"
                    ),
                    format!("write the value as `\"{spelled}\"` alone, or send it in the body"),
                ),
                TextPlace::Query => (
                    format!("`{spelled}` is an object: it cannot be in a query value"),
                    "send it in the JSON body".to_owned(),
                ),
                TextPlace::BodyText => (
                    format!("`{spelled}` is {kind}: it is sent as JSON only as a whole string"),
                    format!("write the value as `\"{spelled}\"` alone"),
                ),
            };
            self.report.error_spanning(pos, width, message).help(help);
        }
        fits
    }
}
