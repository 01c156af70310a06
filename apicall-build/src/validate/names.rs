//! Names: each YAML name is a snake_case Rust identifier that is not a keyword, each is defined
//! once, and no two items generate the same Rust name.

use super::*;

impl Checker<'_, '_> {
    /// A name can name generated code as written: snake_case, and not a Rust keyword.
    /// Reports and returns false if not.
    pub(super) fn name(&mut self, name: &Text, what: &str) -> bool {
        self.name_is_snake_case(name, what) && self.name_is_not_a_keyword(name, what)
    }

    /// A name is lowercase letters, digits and `_`, and does not start with a digit (nor is it
    /// `_` alone).
    fn name_is_snake_case(&mut self, name: &Text, what: &str) -> bool {
        let value = &name.value;
        let snake = value
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
            && value
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            && value != "_";
        if snake {
            return true;
        }
        let suggestion = to_snake_case(value);
        let diagnostic = self.report.error_spanning(
            name.pos,
            name.width(),
            format!("{what} name `{value}` must be snake_case: lowercase letters, digits and `_`"),
        );
        if !suggestion.is_empty() && suggestion != *value {
            diagnostic.help(format!("write `{suggestion}`"));
        }
        false
    }

    /// A name is not a Rust keyword, which could not name a field or a function.
    fn name_is_not_a_keyword(&mut self, name: &Text, what: &str) -> bool {
        let value = &name.value;
        if !RUST_KEYWORDS.contains(&value.as_str()) {
            return true;
        }
        self.report
            .error_spanning(
                name.pos,
                name.width(),
                format!("{what} name `{value}` is a Rust keyword and cannot name generated code"),
            )
            .help(format!("pick another name, such as `{value}_value`"));
        false
    }

    /// A name is defined once among its kind (`seen`, the names so far and where each is
    /// first): a second definition is reported, pointing at the first.
    pub(super) fn defined_once(
        &mut self,
        name: &Text,
        what: &str,
        seen: &mut HashMap<String, Pos>,
    ) -> bool {
        let Some(&first) = seen.get(&name.value) else {
            seen.insert(name.value.clone(), name.pos);
            return true;
        };
        self.report
            .error_spanning(
                name.pos,
                name.width(),
                format!("{what} `{}` is defined twice", name.value),
            )
            .help(format!("the first definition is at line {}", first.line));
        false
    }

    /// No two items generate the same Rust name. Two YAML names can map to one (`a_b` and
    /// `a__b` are both `AB`; a prompt `x` renders with `render_x`, which a call could also be
    /// called): report it here rather than let rustc complain about code the user never
    /// wrote. Returns the items to leave out.
    pub(super) fn generated_names_distinct(
        &mut self,
        file: &ir::File,
        call_names: &HashMap<String, Pos>,
        document: &Document,
    ) -> HashSet<Owner> {
        let places = ItemPlaces::new(document, call_names);
        let claims = crate::names::claims(file);
        let mut taken: HashMap<(crate::names::Space, &str), &crate::names::Claim> = HashMap::new();
        let mut clashing = HashSet::new();
        for claim in &claims {
            let Some(first) = taken.get(&(claim.space, claim.name.as_str())) else {
                taken.insert((claim.space, claim.name.as_str()), claim);
                continue;
            };
            // One error per item: a webhook `x` beside a call `webhook_x` clashes twice (the
            // function and its spec), which is one mistake.
            if clashing.contains(&claim.owner) {
                continue;
            }
            let message = format!(
                "{} would be named `{}`, which is already {}",
                claim.what, claim.name, first.what
            );
            self.report
                .error(places.of(&claim.owner), message)
                .help(places.rename_help(&first.owner));
            clashing.insert(claim.owner.clone());
        }
        clashing
    }
}

/// Where each call, prompt and webhook is named in the YAML.
struct ItemPlaces<'d> {
    calls: &'d HashMap<String, Pos>,
    prompts: HashMap<&'d str, Pos>,
    webhooks: HashMap<&'d str, Pos>,
}

impl<'d> ItemPlaces<'d> {
    fn new(document: &'d Document, calls: &'d HashMap<String, Pos>) -> Self {
        let prompts = (document.prompts.iter())
            .map(|p| (p.name.value.as_str(), p.name.pos))
            .collect();
        let webhooks = (document.webhooks.iter())
            .filter_map(|w| w.name.as_ref())
            .map(|n| (n.value.as_str(), n.pos))
            .collect();
        Self {
            calls,
            prompts,
            webhooks,
        }
    }

    /// Where `owner`'s name is; line 0 for names apicall generates for every file.
    fn of(&self, owner: &Owner) -> Pos {
        match owner {
            Owner::Fixed => None,
            Owner::Call(name) => self.calls.get(name).copied(),
            Owner::Prompt(name) => self.prompts.get(name.as_str()).copied(),
            Owner::Webhook(name) => self.webhooks.get(name.as_str()).copied(),
        }
        .unwrap_or_default()
    }

    /// What to do about a name already taken by `owner`.
    fn rename_help(&self, owner: &Owner) -> String {
        if *owner == Owner::Fixed {
            return "rename it in the YAML: apicall generates that name for every file".to_owned();
        }
        match self.of(owner) {
            Pos { line: 0, .. } => "rename one of them in the YAML".to_owned(),
            Pos { line, .. } => {
                format!("rename one of them in the YAML (the other is at line {line})")
            }
        }
    }
}

const RUST_KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern",
    "false", "fn", "for", "gen", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut",
    "pub", "ref", "return", "self", "static", "struct", "super", "trait", "true", "type", "unsafe",
    "use", "where", "while", "abstract", "become", "box", "do", "final", "macro", "override",
    "priv", "typeof", "unsized", "virtual", "yield", "try",
];

/// `CustomerID` → `customer_id`, `order-id` → `order_id`: the name suggested for one that is
/// not snake_case.
fn to_snake_case(name: &str) -> String {
    let mut out = String::new();
    let mut previous_lower = false;
    for c in name.chars() {
        if c.is_ascii_uppercase() {
            if previous_lower {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
            previous_lower = false;
        } else if c.is_ascii_alphanumeric() {
            out.push(c);
            previous_lower = true;
        } else if !out.ends_with('_') && !out.is_empty() {
            out.push('_');
            previous_lower = false;
        }
    }
    out.trim_end_matches('_').to_owned()
}
