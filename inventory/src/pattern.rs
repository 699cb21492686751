//! Regular expressions for the inventory's string values, as JSON Schema's `pattern` reads
//! them (ECMA-262, whole value), each built to take exactly what the loader's parser takes.
//! tests/schema.rs checks each against its parser on generated values.

/// Whole numbers from 1 to `max` without leading zeros (0 and leading zeros are the
/// caller's choice), built digit by digit from `max`.
fn one_to(max: u64) -> String {
    let digits = max.to_string();
    let n = digits.len();
    let mut alternatives = Vec::new();
    if n > 1 {
        // Fewer digits than `max` has.
        alternatives.push(format!("[1-9][0-9]{{0,{}}}", n - 2));
    }
    // As many digits: `max`'s own up to some place, then a smaller digit, then any.
    for (place, digit) in digits.bytes().map(|d| d - b'0').enumerate() {
        let lowest = u8::from(place == 0);
        if digit > lowest {
            alternatives.push(format!(
                "{}[{lowest}-{}][0-9]{{{}}}",
                &digits[..place],
                digit - 1,
                n - place - 1
            ));
        }
    }
    alternatives.push(digits);
    format!("({})", alternatives.join("|"))
}

/// What Rust's integer parse takes for 0 to `max` written with digits only.
fn zero_to(max: u64) -> String {
    format!("0*({}|0)", one_to(max))
}

/// A dotted-quad IPv4 address as Rust's `Ipv4Addr` parser takes it: RFC 3986's
/// `IPv4address` (section 3.2.2), whose `dec-octet` has no leading zeros.
pub fn ipv4() -> String {
    let octet = "(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])";
    format!("{octet}(\\.{octet}){{3}}")
}

/// An IPv6 address as Rust's `Ipv6Addr` parser takes it: RFC 3986's `IPv6address`
/// (section 3.2.2), rule by rule, with `ls32` ending in an IPv4 address or two groups.
pub fn ipv6() -> String {
    let h16 = "[0-9A-Fa-f]{1,4}";
    let ls32 = format!("({h16}:{h16}|{})", ipv4());
    // `n( h16 ":" )`
    let groups = |n: usize| format!("({h16}:){{{n}}}");
    // `[ *n( h16 ":" ) h16 ]`
    let head = |n: usize| format!("(({h16}:){{0,{n}}}{h16})?");
    let rules = [
        format!("{}{ls32}", groups(6)),
        format!("::{}{ls32}", groups(5)),
        format!("({h16})?::{}{ls32}", groups(4)),
        format!("{}::{}{ls32}", head(1), groups(3)),
        format!("{}::{}{ls32}", head(2), groups(2)),
        format!("{}::{h16}:{ls32}", head(3)),
        format!("{}::{ls32}", head(4)),
        format!("{}::{h16}", head(5)),
        format!("{}::", head(6)),
    ];
    format!("({})", rules.join("|"))
}

/// An IPv6 or IPv4 prefix: an address, `/` and a length written plainly.
pub fn prefix() -> String {
    format!(
        "^({}/(12[0-8]|1[01][0-9]|[1-9]?[0-9])|{}/(3[0-2]|[12]?[0-9]))$",
        ipv6(),
        ipv4()
    )
}

/// An address of either family, as `IpAddr` parses it.
fn ip() -> String {
    format!("({}|{})", ipv4(), ipv6())
}

/// A resolver: `addr:port`, `[v6addr]:port` (a numeric scope id allowed), or an address.
pub fn resolver() -> String {
    let port = zero_to(u16::MAX.into());
    let scope_id = zero_to(u32::MAX.into());
    format!(
        "^({}:{port}|\\[{}(%{scope_id})?\\]:{port}|{})$",
        ipv4(),
        ipv6(),
        ip()
    )
}

/// A DNS host name: labels of 1 to 63 letters, digits, `_` or `-` (not first or last),
/// 253 characters at most before an optional root dot.
fn dns_name() -> String {
    let label = "[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?";
    format!("(?=.{{1,253}}\\.?$){label}(\\.{label})*\\.?")
}

pub fn fqdn() -> String {
    format!("^{}$", dns_name())
}

/// A site's address: an IP address, or a name that is not all digits and dots (the
/// loader takes those for a mistyped IPv4 address).
pub fn endpoint() -> String {
    format!("^({}|(?=.*[^0-9.]){})$", ip(), dns_name())
}

pub fn service() -> String {
    format!("^(http|https|smtp|tcp/0*{})$", one_to(u16::MAX.into()))
}

pub fn rate() -> String {
    format!("^\\s*0*{}\\s*/s$", one_to(u32::MAX.into()))
}

/// A duration as humantime reads it: numbers (spaces may fall between digits), each with
/// its unit; a fraction needs a digit after the point and a unit longer than `ns`.
fn duration() -> String {
    let number = "[0-9][0-9\\s]*";
    let fraction = "\\.\\s*[0-9][0-9\\s]*";
    let unit = "usec|us|µs|millis|msec|ms|seconds|second|secs|sec|s|minutes|minute|mins|min|m|\
                hours|hour|hrs|hr|h|days|day|d|weeks|week|wks|wk|w|months|month|M|years|year|\
                yrs|yr|y";
    let span = format!("{number}(({fraction})?({unit})|nanos|nsec|ns)");
    format!("\\s*{span}(\\s*{span})*\\s*")
}

/// A duration longer than zero: one of its numbers has a digit other than 0.
pub fn timeout() -> String {
    format!("^(?=[^1-9]*[1-9]){}$", duration())
}

/// 0% to 100%, whole.
pub fn percent() -> String {
    r"^(100|[1-9]?[0-9])%$".into()
}

pub fn period() -> String {
    format!("^{}$", duration())
}

/// A date `YYYY-MM-DD` that is on the calendar: 30 days hath September, and February
/// has 29 days in years divisible by 4, except centuries not divisible by 400.
pub fn date() -> String {
    let leap_year = "([0-9]{2}(0[48]|[2468][048]|[13579][26])|([02468][048]|[13579][26])00)";
    format!(
        "^([0-9]{{4}}-((0[13578]|1[02])-(0[1-9]|[12][0-9]|3[01])|(0[469]|11)-(0[1-9]|[12][0-9]|30)\
         |02-(0[1-9]|1[0-9]|2[0-8]))|{leap_year}-02-29)$"
    )
}

/// An environment variable's name, as `*_env` fields need.
pub const ENV_NAME: &str = "^[A-Za-z_][A-Za-z0-9_]*$";

/// Text with something other than white space in it.
pub const NOT_BLANK: &str = "\\S";

#[cfg(test)]
mod tests {
    use super::one_to;

    #[test]
    fn numbers_up_to_a_bound_are_built_digit_by_digit() {
        assert_eq!(one_to(5), "([1-4][0-9]{0}|5)");
        assert_eq!(
            one_to(255),
            "([1-9][0-9]{0,1}|[1-1][0-9]{2}|2[0-4][0-9]{1}|25[0-4][0-9]{0}|255)"
        );
    }
}
