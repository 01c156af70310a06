//! Two YAML items must not generate the same Rust name.

use super::*;

impl Checker<'_, '_, '_> {
    /// Two YAML names can map to one Rust name (`a_b` and `a__b` are both `AB`; a prompt
    /// `x` renders with `render_x`, which a call could also be called): report it here rather
    /// than let rustc complain about code the user never wrote. Returns the items to leave out.
    pub(super) fn generated_names(
        &mut self,
        file: &ir::File,
        call_names: &HashMap<String, Pos>,
        document: &Document,
    ) -> HashSet<Owner> {
        let prompts: HashMap<&str, Pos> = document
            .prompts
            .iter()
            .map(|p| (p.name.value.as_str(), p.name.pos))
            .collect();
        let webhooks: HashMap<&str, Pos> = document
            .webhooks
            .iter()
            .filter_map(|w| w.name.as_ref())
            .map(|n| (n.value.as_str(), n.pos))
            .collect();
        let pos_of = |owner: &Owner| -> Pos {
            match owner {
                Owner::Fixed => None,
                Owner::Call(name) => call_names.get(name).copied(),
                Owner::Prompt(name) => prompts.get(name.as_str()).copied(),
                Owner::Webhook(name) => webhooks.get(name.as_str()).copied(),
            }
            .unwrap_or_default()
        };
        let claims = names::claims(file);
        let mut taken: HashMap<(names::Space, &str), &names::Claim> = HashMap::new();
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
            let help = match &first.owner {
                Owner::Fixed => {
                    "rename it in the YAML: apicall generates that name for every file".to_owned()
                }
                owner => match pos_of(owner) {
                    Pos { line: 0, .. } => "rename one of them in the YAML".to_owned(),
                    Pos { line, .. } => {
                        format!("rename one of them in the YAML (the other is at line {line})")
                    }
                },
            };
            self.report.error(pos_of(&claim.owner), message).help(help);
            clashing.insert(claim.owner.clone());
        }
        clashing
    }
}
