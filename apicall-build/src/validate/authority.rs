//! Whether a URL's static authority (`user@host:port`) is one the runtime's URL parser (the
//! `url` crate, as reqwest uses it) accepts for `http` and `https`. Written out rather than
//! depending on `url`, which would compile IDNA and ICU into every build of the macro; a test
//! holds the two to the same answers.

use std::net::Ipv6Addr;

/// What is wrong with `authority`, the text between `scheme://` and the first `/`, `?` or `#`,
/// or `None` when the runtime will accept it. Hosts that are not ASCII go through IDNA at run
/// time and are not judged here.
pub(super) fn problem(authority: &str) -> Option<String> {
    // Credentials end at the last `@`; the URL parser takes anything before it.
    let host_port = authority
        .rsplit_once('@')
        .map_or(authority, |(_, rest)| rest);
    let (host, port) = match host_port.strip_prefix('[') {
        Some(bracketed) => {
            let Some((address, after)) = bracketed.split_once(']') else {
                return Some("its IPv6 address has no closing `]`".to_owned());
            };
            if address.parse::<Ipv6Addr>().is_err() {
                return Some(format!("`[{address}]` is not an IPv6 address"));
            }
            match after.strip_prefix(':') {
                Some(port) => (None, Some(port)),
                None if after.is_empty() => (None, None),
                None => return Some(format!("`{after}` follows the IPv6 address")),
            }
        }
        None => match host_port.split_once(':') {
            Some((host, port)) => (Some(host), Some(port)),
            None => (Some(host_port), None),
        },
    };
    if let Some(port) = port {
        let problem = port_problem(port);
        if problem.is_some() {
            return problem;
        }
    }
    host.and_then(host_problem)
}

/// A port is empty (the scheme's default) or a decimal number up to 65535.
fn port_problem(port: &str) -> Option<String> {
    // As many leading zeros as anyone writes: the URL parser reads the value.
    let significant = port.trim_start_matches('0');
    let valid = port.bytes().all(|b| b.is_ascii_digit())
        && significant.len() <= 5
        && (significant.is_empty() || significant.parse::<u32>().is_ok_and(|p| p <= 65_535));
    (!valid).then(|| format!("`{port}` is not a port number (0 to 65535)"))
}

/// A host name: not empty, none of the characters WHATWG's URL standard forbids in one, and
/// a valid IPv4 address if it ends in a number.
fn host_problem(host: &str) -> Option<String> {
    if host.is_empty() {
        return Some("it has no host".to_owned());
    }
    let punycode = host.split('.').any(|label| {
        label
            .get(..4)
            .is_some_and(|start| start.eq_ignore_ascii_case("xn--"))
    });
    if !host.is_ascii() || host.contains('%') || punycode {
        // IDNA (which also decodes an ASCII `xn--` label), and percent-decoding before it,
        // are the runtime's to judge.
        return None;
    }
    if let Some(c) = host.chars().find(|&c| is_forbidden_in_host(c)) {
        let shown = match c {
            ' ' => "a space".to_owned(),
            c if c.is_ascii_control() => format!("the control character U+{:04X}", u32::from(c)),
            c => format!("`{c}`"),
        };
        return Some(format!("the host `{host}` contains {shown}"));
    }
    ends_in_a_number(host)
        .then(|| {
            ipv4(host)
                .is_none()
                .then(|| format!("`{host}` is not an IPv4 address"))
        })
        .flatten()
}

/// WHATWG's forbidden domain code points (ASCII): controls, space and `#%/:<>?@[\]^|`, DEL.
/// A tab, which the URL parser drops before it reads a host, is refused here all the same:
/// in a written-out host it is a typo.
fn is_forbidden_in_host(c: char) -> bool {
    c.is_ascii_control() || " #/:<>?@[\\]^|".contains(c)
}

/// WHATWG reads a host as IPv4 when its last label (ignoring one trailing dot) is a number,
/// decimal or `0x` hexadecimal.
fn ends_in_a_number(host: &str) -> bool {
    let host = host.strip_suffix('.').unwrap_or(host);
    let last = host.rsplit('.').next().unwrap_or(host);
    if last.is_empty() {
        return false;
    }
    last.bytes().all(|b| b.is_ascii_digit())
        || last
            .strip_prefix("0x")
            .or_else(|| last.strip_prefix("0X"))
            .is_some_and(|hex| hex.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The address WHATWG's IPv4 parser reads from `host`: one to four parts, each decimal,
/// `0x` hexadecimal or `0` octal, the last filling the bytes the others leave.
fn ipv4(host: &str) -> Option<u32> {
    let host = host.strip_suffix('.').unwrap_or(host);
    let parts: Vec<&str> = host.split('.').collect();
    if parts.len() > 4 {
        return None;
    }
    let numbers = parts
        .iter()
        .map(|part| ipv4_number(part))
        .collect::<Option<Vec<u64>>>()?;
    let (last, first) = numbers.split_last()?;
    if first.iter().any(|&n| n > 255) {
        return None;
    }
    let room = 32 - 8 * u32::try_from(first.len()).ok()?;
    if *last >= 1u64 << room {
        return None;
    }
    let high = first
        .iter()
        .enumerate()
        .map(|(i, &n)| n << (24 - 8 * i))
        .sum::<u64>();
    u32::try_from(high + last).ok()
}

/// One part of an IPv4 address: `0x` hexadecimal, `0` octal or decimal (an empty `0x` is 0).
fn ipv4_number(part: &str) -> Option<u64> {
    if part.is_empty() {
        return None;
    }
    let (digits, radix) =
        if let Some(hex) = part.strip_prefix("0x").or_else(|| part.strip_prefix("0X")) {
            (hex, 16)
        } else if part.len() > 1 && part.starts_with('0') {
            (&part[1..], 8)
        } else {
            (part, 10)
        };
    // Leading zeros add nothing (`00000000000000001` is 1); what is left, if longer than
    // any address, is too large (and too long to parse into a u64).
    let digits = digits.trim_start_matches('0');
    if digits.is_empty() {
        return Some(0);
    }
    if digits.len() > 12 {
        return None;
    }
    u64::from_str_radix(digits, radix).ok()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::problem;

    proptest! {
        /// Random authorities built from the characters that matter to the parsers.
        #[test]
        fn agrees_with_the_url_crate_on_random_authorities(
            authority in "[a-f0-9nxX.:@\\[\\] _|^<>-]{0,16}|(0{0,12}[0-9]{1,3}\\.){0,3}0{0,14}[0-9]{1,4}"
        ) {
            // IDNA's to judge, at run time (see `host_problem`).
            prop_assume!(!authority.to_ascii_lowercase().contains("xn--"));
            let ours = problem(&authority);
            let theirs = ::url::Url::parse(&format!("https://{authority}/"));
            prop_assert_eq!(ours.is_none(), theirs.is_ok(), "ours {:?}, url {:?}", ours, theirs);
        }
    }

    /// The runtime's own parser decides; this module must agree with it on every authority
    /// here, valid and not.
    #[test]
    fn agrees_with_the_url_crate() {
        let authorities = [
            "api.example.com",
            "API.Example.COM",
            "api.example.com:443",
            "api.example.com:",
            "api.example.com:0",
            "api.example.com:00080",
            "api.example.com:65535",
            "api.example.com:65536",
            "api.example.com:99999",
            "api.example.com:80x",
            "api.example.com:-1",
            "api.example.com: 80",
            "exa mple.com",
            "exa_mple.com",
            "exa_mple.com:80x",
            "exa|mple.com",
            "exa^mple.com",
            "exa<mple.com",
            "user:pass@api.example.com",
            "user@api.example.com:8080",
            "a@b@api.example.com",
            "@api.example.com",
            "localhost",
            "127.0.0.1",
            "127.0.0.1:8080",
            "127.1",
            "0x7f.1",
            "0177.0.0.1",
            "2130706433",
            "1.2.3.999",
            "1.2.3.4.5",
            "256.0.0.1",
            "1.2.3.4.",
            "1.2.3.09",
            "00000000000000001",
            "00000000000000001:8080",
            "0x0000000000000007f.1",
            "xn--a.example.com",
            "XN--nxasmq6b.example",
            "4294967296",
            "0x",
            "example.123",
            "123.example",
            "[::1]",
            "[::1]:8080",
            "[::1",
            "[::1]x",
            "[::1]:99999",
            "[1:2:3]",
            "[fe80::1%25eth0]",
            "[::ffff:127.0.0.1]",
            "münchen.example",
            "ex%61mple.com",
            "",
            ":8080",
        ];
        for authority in authorities {
            let ours = problem(authority);
            if authority.to_ascii_lowercase().contains("xn--") {
                // Punycode: left to IDNA at run time, never refused here.
                assert_eq!(ours, None, "{authority}");
                continue;
            }
            let theirs = ::url::Url::parse(&format!("https://{authority}/"));
            assert_eq!(
                ours.is_none(),
                theirs.is_ok(),
                "`{authority}`: ours {ours:?}, url {theirs:?}"
            );
        }
    }
}
