//! The YAML 1.2 core schema's reading of plain scalars (YAML 1.2.2, section 10.3.2).
//!
//! serde-saphyr guesses scalar types with some YAML 1.1 rules even when told otherwise, so
//! after parsing, every scalar it did not read as a string is read again from its own source
//! text with these rules.

use super::{Node, Value};

/// Gives every scalar serde-saphyr did not read as a string the core schema's reading of its
/// source text. Strings need no second look: quoted scalars are strings in every schema, and
/// the options below keep serde-saphyr from typing plain text the core schema leaves as text.
pub(super) fn resolve(node: &mut Node, source: &str) {
    match &mut node.value {
        Value::Seq(items) => items.iter_mut().for_each(|item| resolve(item, source)),
        Value::Map(entries) => {
            for (key, value) in entries {
                resolve(key, source);
                resolve(value, source);
            }
        }
        Value::Str(_) => {}
        Value::Null | Value::Bool(_) | Value::Int(_) | Value::Float(_) => {
            resolve_scalar(node, source);
        }
    }
}

fn resolve_scalar(node: &mut Node, source: &str) {
    let Some(text) = node
        .defined
        .and_then(|(start, len)| source.get(start..start.checked_add(len)?))
    else {
        return;
    };
    // A tag chose the type explicitly, and folded multi-line text is not a number: keep
    // serde-saphyr's reading of both.
    if text.starts_with(['!', '&', '*']) || text.contains(['\n', '\r']) {
        return;
    }
    node.value = core_scalar(text);
    node.written = Some(text.to_owned());
}

/// A plain scalar read with the YAML 1.2 core schema (YAML 1.2.2, section 10.3.2).
fn core_scalar(text: &str) -> Value {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => Value::Null,
        "true" | "True" | "TRUE" => Value::Bool(true),
        "false" | "False" | "FALSE" => Value::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => Value::Float(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => Value::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => Value::Float(f64::NAN),
        _ => core_number(text).unwrap_or_else(|| Value::Str(text.to_owned())),
    }
}

fn core_number(text: &str) -> Option<Value> {
    if let Some((digits, radix)) = core_int(text) {
        return Some(i128::from_str_radix(digits, radix).map_or_else(
            // Past i128 the value is kept approximately; `written` keeps every digit.
            |_| Value::Float(approximate(digits, radix)),
            Value::Int,
        ));
    }
    let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
    if is_core_float(unsigned) {
        return text.parse().ok().map(Value::Float);
    }
    None
}

/// The digits (with any sign) and radix of a core schema integer: `[-+]?[0-9]+`, `0o[0-7]+`
/// or `0x[0-9a-fA-F]+`.
pub(super) fn core_int(text: &str) -> Option<(&str, u32)> {
    let (digits, radix) = if let Some(octal) = text.strip_prefix("0o") {
        (octal, 8)
    } else if let Some(hex) = text.strip_prefix("0x") {
        (hex, 16)
    } else {
        (text, 10)
    };
    let unsigned = match radix {
        10 => digits.strip_prefix(['-', '+']).unwrap_or(digits),
        _ => digits,
    };
    let valid = !unsigned.is_empty() && unsigned.chars().all(|c| c.is_digit(radix));
    valid.then_some((digits, radix))
}

fn approximate(digits: &str, radix: u32) -> f64 {
    let magnitude = digits
        .chars()
        .filter_map(|c| c.to_digit(radix))
        .fold(0.0, |n, digit| n * f64::from(radix) + f64::from(digit));
    if digits.starts_with('-') {
        -magnitude
    } else {
        magnitude
    }
}

/// `( . [0-9]+ | [0-9]+ ( . [0-9]* )? ) ( [eE] [-+]? [0-9]+ )?`, the sign already removed.
fn is_core_float(text: &str) -> bool {
    let all_digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
    let (mantissa, exponent) = match text.split_once(['e', 'E']) {
        Some((mantissa, exponent)) => (mantissa, Some(exponent)),
        None => (text, None),
    };
    let mantissa_ok = match mantissa.split_once('.') {
        Some((whole, fraction)) => {
            all_digits(whole) && all_digits(fraction) && !(whole.is_empty() && fraction.is_empty())
        }
        None => !mantissa.is_empty() && all_digits(mantissa),
    };
    let exponent_ok = exponent.is_none_or(|exponent| {
        let digits = exponent.strip_prefix(['-', '+']).unwrap_or(exponent);
        !digits.is_empty() && all_digits(digits)
    });
    mantissa_ok && exponent_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_schema_scalars() {
        let read = |text: &str| format!("{:?}", core_scalar(text));
        assert_eq!(read("0o17"), "Int(15)");
        assert_eq!(read("0x1F"), "Int(31)");
        assert_eq!(read("-12"), "Int(-12)");
        assert_eq!(read("1."), "Float(1.0)");
        assert_eq!(read(".5e1"), "Float(5.0)");
        for text in [
            "1_000", "0b1", "1:30", "yes", "n", "on", "-0x1", "0o8", ".", "1e",
        ] {
            assert_eq!(read(text), format!("Str({text:?})"));
        }
    }
}
