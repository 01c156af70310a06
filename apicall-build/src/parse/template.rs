//! The `{{...}}` template language used in URLs, headers, query values and prompts.
//!
//! `{{name}}` is a context variable, `{{collected.x}}` an LLM parameter of the call,
//! `{{api.x}}` a value extracted from a response. Whitespace inside the braces is allowed.
//! `{{ "{{" }}` writes a literal `{{`.

/// Which family of variables a reference names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Namespace {
    Context,
    Collected,
    Api,
}

impl Namespace {
    pub(crate) fn spell(self, name: &str) -> String {
        match self {
            Namespace::Context => format!("{{{{{name}}}}}"),
            Namespace::Collected => format!("{{{{collected.{name}}}}}"),
            Namespace::Api => format!("{{{{api.{name}}}}}"),
        }
    }
}

/// A variable reference and where its `{{` starts within the template string.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct VarRef {
    pub namespace: Namespace,
    pub name: String,
    /// Byte offset of the opening `{{` in the template text.
    pub offset: usize,
    /// Byte length of the whole `{{...}}`.
    pub len: usize,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Piece {
    Text(String),
    Var(VarRef),
}

/// A malformed `{{...}}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct TemplateError {
    pub offset: usize,
    pub len: usize,
    pub message: String,
    pub help: Option<String>,
}

/// Splits a template into text and variable references. Never panics, on any input.
pub(crate) fn lex(template: &str) -> Result<Vec<Piece>, TemplateError> {
    let mut pieces = Vec::new();
    let mut text = String::new();
    let mut rest = template;
    let mut offset = 0;
    while let Some(open) = rest.find("{{") {
        text.push_str(&rest[..open]);
        let start = offset + open;
        let after_open = &rest[open + 2..];
        let Some(close) = after_open.find("}}") else {
            return Err(TemplateError {
                offset: start,
                len: 2,
                message: "this `{{` is never closed with `}}`".to_owned(),
                help: Some("write `{{ \"{{\" }}` for a literal `{{`".to_owned()),
            });
        };
        let inner = &after_open[..close];
        let len = 2 + close + 2;
        match parse_expression(inner.trim()) {
            Ok(Expression::Literal(literal)) => text.push_str(literal),
            Ok(Expression::Var(namespace, name)) => {
                if !text.is_empty() {
                    pieces.push(Piece::Text(std::mem::take(&mut text)));
                }
                pieces.push(Piece::Var(VarRef {
                    namespace,
                    name: name.to_owned(),
                    offset: start,
                    len,
                }));
            }
            Err((message, help)) => {
                return Err(TemplateError {
                    offset: start,
                    len,
                    message,
                    help,
                });
            }
        }
        offset = start + len;
        rest = &template[offset..];
    }
    text.push_str(rest);
    if !text.is_empty() {
        pieces.push(Piece::Text(text));
    }
    Ok(pieces)
}

enum Expression<'t> {
    Literal(&'t str),
    Var(Namespace, &'t str),
}

fn parse_expression(inner: &str) -> Result<Expression<'_>, (String, Option<String>)> {
    if inner.is_empty() {
        return Err((
            "empty `{{}}`: write a variable name inside".to_owned(),
            None,
        ));
    }
    for quote in ['"', '\''] {
        if let Some(literal) = inner
            .strip_prefix(quote)
            .and_then(|rest| rest.strip_suffix(quote))
        {
            return Ok(Expression::Literal(literal));
        }
    }
    let (namespace, name) = match inner.split_once('.') {
        None => (Namespace::Context, inner),
        Some(("collected", name)) => (Namespace::Collected, name),
        Some(("api", name)) => (Namespace::Api, name),
        Some((prefix, _)) => {
            return Err((
                format!("`{prefix}.` is not a kind of variable"),
                Some(
                    "write `{{name}}` for a context variable, `{{collected.name}}` for an LLM \
                     parameter or `{{api.name}}` for a response variable"
                        .to_owned(),
                ),
            ));
        }
    };
    if !is_identifier(name) {
        return Err((
            format!("`{inner}` is not a variable name"),
            Some(
                "variable names are letters, digits and `_`, not starting with a digit".to_owned(),
            ),
        ));
    }
    Ok(Expression::Var(namespace, name))
}

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic() || first == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn var(namespace: Namespace, name: &str, offset: usize, len: usize) -> Piece {
        Piece::Var(VarRef {
            namespace,
            name: name.to_owned(),
            offset,
            len,
        })
    }

    #[test]
    fn splits_text_and_variables() {
        assert_eq!(
            lex("Bearer {{api_key}}").unwrap(),
            vec![
                Piece::Text("Bearer ".into()),
                var(Namespace::Context, "api_key", 7, 11)
            ]
        );
    }

    #[test]
    fn whitespace_inside_braces_is_allowed() {
        assert_eq!(
            lex("{{ collected.order_id }}").unwrap(),
            vec![var(Namespace::Collected, "order_id", 0, 24)]
        );
    }

    #[test]
    fn quoted_braces_are_literal_text() {
        assert_eq!(
            lex("a {{ \"{{\" }} b").unwrap(),
            vec![Piece::Text("a {{ b".into())]
        );
    }

    #[test]
    fn unclosed_braces_are_reported_at_their_start() {
        let error = lex("x {{api.name").unwrap_err();
        assert_eq!(error.offset, 2);
    }

    #[test]
    fn unknown_namespace_is_an_error() {
        let error = lex("{{session.id}}").unwrap_err();
        assert!(error.message.contains("session."), "{}", error.message);
    }

    #[test]
    fn bad_names_are_errors() {
        assert!(lex("{{}}").is_err());
        assert!(lex("{{1abc}}").is_err());
        assert!(lex("{{api.}}").is_err());
        assert!(lex("{{a b}}").is_err());
    }

    #[test]
    fn single_braces_are_text() {
        assert_eq!(
            lex("{\"a\": 1}").unwrap(),
            vec![Piece::Text("{\"a\": 1}".into())]
        );
    }
}
