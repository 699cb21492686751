//! Filter queries as engineers type them after `/`: `key op value` terms joined by spaces,
//! all of which must hold (`agency=dict level<L3 failing=tls.v6 rsrp<-100 ipv6=no`). One
//! query filters both lists: a term about sites leaves hosts alone and the other way round.

use std::cmp::Ordering;
use std::fmt;

use sixfive_inventory::model::{Level, Stage};
use sixfive_inventory::results::SiteState;
use sixfive_inventory::store::{HostLine, SiteLine};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    /// Contains, case ignored.
    Has,
}

impl Op {
    /// Longest first, so `<=` is not read as `<` and `=…`.
    const ALL: [(&'static str, Op); 7] = [
        ("<=", Op::Le),
        (">=", Op::Ge),
        ("!=", Op::Ne),
        ("=", Op::Eq),
        ("<", Op::Lt),
        (">", Op::Gt),
        ("~", Op::Has),
    ];

    fn holds(self, ordering: Ordering) -> bool {
        match self {
            Op::Eq | Op::Has => ordering == Ordering::Equal,
            Op::Ne => ordering != Ordering::Equal,
            Op::Lt => ordering == Ordering::Less,
            Op::Le => ordering != Ordering::Greater,
            Op::Gt => ordering == Ordering::Greater,
            Op::Ge => ordering != Ordering::Less,
        }
    }

    fn text(self) -> &'static str {
        Op::ALL
            .iter()
            .find(|(_, op)| *op == self)
            .map_or("?", |(text, _)| text)
    }
}

/// What a term compares, already parsed, so matching a row does no parsing.
#[derive(Debug, Clone, PartialEq)]
enum Term {
    Fqdn(Op, String),
    /// The DNS domain a host's name is in (`domain=danang.test`).
    Domain(Op, String),
    /// The network zone of a host or site in the inventory, whose agents scan it.
    Zone(Op, String),
    Agency(Op, String),
    Level(Op, Level),
    Score(Op, f64),
    Failing(Op, String),
    Stage(Op, Stage),
    Owner(Op, String),
    Tag(Op, String),
    Regressed(Op, bool),
    State(Op, SiteState),
    Tech(Op, String),
    Rsrp(Op, f64),
    Rsrq(Op, f64),
    Sinr(Op, f64),
    Uplink(Op, String),
    Ipv6(Op, bool),
}

const HOST_KEYS: &str =
    "fqdn, domain, zone, agency, level, score, failing, stage, owner, tag, regressed";
const SITE_KEYS: &str = "agency, zone, state, tech, rsrp, rsrq, sinr, uplink, ipv6";

/// Why a query cannot be used, naming the term at fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryError(pub String);

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A parsed query; the empty query keeps every row.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Query {
    text: String,
    terms: Vec<Term>,
}

impl Query {
    pub fn parse(text: &str) -> Result<Query, QueryError> {
        let terms = text
            .split_whitespace()
            .map(term)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Query {
            text: text.split_whitespace().collect::<Vec<_>>().join(" "),
            terms,
        })
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    pub fn host(&self, host: &HostLine) -> bool {
        self.terms.iter().all(|term| host_holds(term, host))
    }

    pub fn site(&self, site: &SiteLine) -> bool {
        self.terms.iter().all(|term| site_holds(term, site))
    }
}

fn term(text: &str) -> Result<Term, QueryError> {
    let Some((at, op_text, op)) = Op::ALL
        .iter()
        .filter_map(|(op_text, op)| Some((text.find(op_text)?, *op_text, *op)))
        .min_by_key(|(at, op_text, _)| (*at, std::cmp::Reverse(op_text.len())))
    else {
        return Err(QueryError(format!(
            "`{text}`: no operator; write key=value (also != < <= > >= ~)"
        )));
    };
    let key = text[..at].to_ascii_lowercase();
    let value = &text[at + op_text.len()..];
    if key.is_empty() || value.is_empty() {
        return Err(QueryError(format!(
            "`{text}`: a term is key{op_text}value, with both sides"
        )));
    }
    let only = |allowed: &[Op]| {
        if allowed.contains(&op) {
            Ok(())
        } else {
            let list: Vec<&str> = allowed.iter().map(|op| op.text()).collect();
            Err(QueryError(format!(
                "`{text}`: {key} takes {}",
                list.join(" ")
            )))
        }
    };
    let words = [Op::Eq, Op::Ne, Op::Has];
    // `nan` parses as a float but compares false with everything: a term that hides every
    // row without saying why. Infinities compare, and are as good as a large number.
    let number = |name: &str| {
        value
            .parse::<f64>()
            .ok()
            .filter(|n| !n.is_nan())
            .ok_or_else(|| QueryError(format!("`{text}`: {name} is a number, not `{value}`")))
    };
    let yes_no = || match value.to_ascii_lowercase().as_str() {
        "yes" | "true" | "y" | "1" => Ok(true),
        "no" | "false" | "n" | "0" => Ok(false),
        _ => Err(QueryError(format!("`{text}`: {key} is yes or no"))),
    };
    // `~` (contains) is for text; levels, states and numbers compare.
    let ordered = [Op::Eq, Op::Ne, Op::Lt, Op::Le, Op::Gt, Op::Ge];
    let lower = value.to_lowercase();
    Ok(match key.as_str() {
        "fqdn" | "host" => {
            only(&words)?;
            Term::Fqdn(op, lower)
        }
        "domain" => {
            only(&words)?;
            Term::Domain(op, lower.trim_matches('.').to_owned())
        }
        "zone" => {
            only(&words)?;
            Term::Zone(op, lower)
        }
        "agency" => {
            only(&words)?;
            Term::Agency(op, lower)
        }
        "level" => Term::Level(
            only(&ordered).map(|()| op)?,
            value.parse().map_err(|_| {
                QueryError(format!(
                    "`{text}`: `{value}` is not a level (BROKEN, L0 to L5)"
                ))
            })?,
        ),
        "score" => Term::Score(only(&ordered).map(|()| op)?, number("score")?),
        "failing" | "fails" => {
            only(&words)?;
            Term::Failing(op, lower)
        }
        "stage" => {
            only(&[Op::Eq, Op::Ne])?;
            Term::Stage(
                op,
                lower.parse().map_err(|_| {
                    QueryError(format!(
                        "`{text}`: `{value}` is not a stage (planned, in-progress, dual-stack, ipv6-only, exempt)"
                    ))
                })?,
            )
        }
        "owner" => {
            only(&words)?;
            Term::Owner(op, lower)
        }
        "tag" => {
            only(&words)?;
            Term::Tag(op, lower)
        }
        "regressed" => {
            only(&[Op::Eq, Op::Ne])?;
            Term::Regressed(op, yes_no()?)
        }
        "state" => Term::State(
            only(&ordered).map(|()| op)?,
            lower.replace('-', "_").parse().map_err(|_| {
                QueryError(format!(
                    "`{text}`: `{value}` is not a site state (ok, degraded, critical, unreachable, auth_failed)"
                ))
            })?,
        ),
        "tech" | "technology" => {
            only(&words)?;
            Term::Tech(op, lower)
        }
        "rsrp" => Term::Rsrp(only(&ordered).map(|()| op)?, number("rsrp")?),
        "rsrq" => Term::Rsrq(only(&ordered).map(|()| op)?, number("rsrq")?),
        "sinr" => Term::Sinr(only(&ordered).map(|()| op)?, number("sinr")?),
        "uplink" => {
            only(&words)?;
            Term::Uplink(op, lower)
        }
        "ipv6" | "v6" => {
            only(&[Op::Eq, Op::Ne])?;
            Term::Ipv6(op, yes_no()?)
        }
        _ => {
            return Err(QueryError(format!(
                "`{key}` is not a key: hosts take {HOST_KEYS}; sites take {SITE_KEYS}"
            )));
        }
    })
}

/// Text equal (`=`, `!=`) or containing (`~`), case ignored; `wanted` is lower case.
fn text_holds(op: Op, actual: &str, wanted: &str) -> bool {
    let actual = actual.to_lowercase();
    match op {
        Op::Has => actual.contains(wanted),
        Op::Ne => actual != wanted,
        _ => actual == wanted,
    }
}

/// Whether any of `items` matches; `!=` means none equals.
fn any_holds<'a>(op: Op, mut items: impl Iterator<Item = &'a String>, wanted: &str) -> bool {
    match op {
        Op::Ne => !items.any(|item| text_holds(Op::Eq, item, wanted)),
        _ => items.any(|item| text_holds(op, item, wanted)),
    }
}

/// How a term holds for a value that may be unknown (never graded, never read): an
/// unknown value equals nothing, orders against nothing, and so meets only `!=`.
fn known_holds(op: Op, ordering: Option<Ordering>) -> bool {
    ordering.map_or(op == Op::Ne, |ordering| op.holds(ordering))
}

fn number_holds(op: Op, actual: Option<f64>, wanted: f64) -> bool {
    known_holds(op, actual.and_then(|a| a.partial_cmp(&wanted)))
}

/// A yes-or-no term (`=`, `!=`) against a value that may be unknown.
fn flag_holds(op: Op, actual: Option<bool>, wanted: bool) -> bool {
    known_holds(op, actual.map(|a| a.cmp(&wanted)))
}

fn host_holds(term: &Term, host: &HostLine) -> bool {
    let grade = host.grade.as_ref();
    match term {
        Term::Fqdn(op, wanted) => text_holds(*op, &host.fqdn, wanted),
        Term::Domain(op, domain) => {
            let inside = host.fqdn == *domain || host.fqdn.ends_with(&format!(".{domain}"));
            match op {
                Op::Ne => !inside,
                Op::Has => host.fqdn.contains(domain.as_str()),
                _ => inside,
            }
        }
        Term::Zone(op, wanted) => text_holds(*op, host.zone.as_deref().unwrap_or(""), wanted),
        Term::Agency(op, wanted) => text_holds(*op, &host.agency, wanted),
        Term::Level(op, wanted) => known_holds(*op, grade.map(|g| g.level.cmp(wanted))),
        Term::Score(op, wanted) => number_holds(*op, grade.map(|g| f64::from(g.score)), *wanted),
        Term::Failing(op, wanted) => any_holds(*op, host.failing.iter(), wanted),
        Term::Stage(op, wanted) => (host.stage == *wanted) == (*op == Op::Eq),
        Term::Owner(op, wanted) => text_holds(*op, host.owner.as_deref().unwrap_or(""), wanted),
        Term::Tag(op, wanted) => any_holds(*op, host.tags.iter(), wanted),
        Term::Regressed(op, wanted) => flag_holds(*op, grade.map(|g| g.regressed), *wanted),
        // A term about sites says nothing about hosts.
        Term::State(..)
        | Term::Tech(..)
        | Term::Rsrp(..)
        | Term::Rsrq(..)
        | Term::Sinr(..)
        | Term::Uplink(..)
        | Term::Ipv6(..) => true,
    }
}

fn site_holds(term: &Term, site: &SiteLine) -> bool {
    let latest = site.latest.as_ref();
    let radio = latest.map(|r| &r.radio);
    match term {
        Term::Agency(op, wanted) => text_holds(*op, &site.agency, wanted),
        Term::Zone(op, wanted) => text_holds(*op, site.zone.as_deref().unwrap_or(""), wanted),
        // SiteState sorts best first, as `state>degraded` reads.
        Term::State(op, wanted) => known_holds(*op, latest.map(|r| r.state.cmp(wanted))),
        Term::Tech(op, wanted) => text_holds(
            *op,
            radio.and_then(|r| r.technology.as_deref()).unwrap_or(""),
            wanted,
        ),
        Term::Rsrp(op, wanted) => number_holds(*op, radio.and_then(|r| r.rsrp_dbm), *wanted),
        Term::Rsrq(op, wanted) => number_holds(*op, radio.and_then(|r| r.rsrq_db), *wanted),
        Term::Sinr(op, wanted) => number_holds(*op, radio.and_then(|r| r.sinr_db), *wanted),
        Term::Uplink(op, wanted) => text_holds(
            *op,
            latest
                .and_then(|r| r.uplink.oper_status.as_deref())
                .unwrap_or(""),
            wanted,
        ),
        Term::Ipv6(op, wanted) => flag_holds(
            *op,
            latest
                .and_then(|r| r.wan_ipv6.as_ref())
                .map(|addresses| !addresses.is_empty()),
            *wanted,
        ),
        Term::Fqdn(..)
        | Term::Domain(..)
        | Term::Level(..)
        | Term::Score(..)
        | Term::Failing(..)
        | Term::Stage(..)
        | Term::Owner(..)
        | Term::Tag(..)
        | Term::Regressed(..) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sixfive_inventory::store::Grade;

    pub(crate) fn host(
        fqdn: &str,
        agency: &str,
        level: Option<Level>,
        failing: &[&str],
    ) -> HostLine {
        HostLine {
            fqdn: fqdn.into(),
            agency: agency.into(),
            zone: None,
            stage: Stage::Planned,
            owner: Some("Minh".into()),
            tags: vec!["portal".into()],
            grade: level.map(|level| Grade {
                level,
                score: 48,
                regressed: level == Level::Broken,
                run: 1,
                at: None,
            }),
            failing: failing.iter().map(|c| (*c).to_owned()).collect(),
        }
    }

    #[test]
    fn terms_and_together() {
        let portal = host(
            "portal.health.danang.test",
            "health",
            Some(Level::L1),
            &["tls.v6"],
        );
        let query = Query::parse("agency=health level<L3 failing=tls.v6 stage=planned").unwrap();
        assert!(query.host(&portal));
        assert!(
            !Query::parse("agency=health level>=L3")
                .unwrap()
                .host(&portal)
        );
        assert!(!Query::parse("failing=tcp.v6").unwrap().host(&portal));
        assert!(
            Query::parse("failing!=tcp.v6 failing~tls")
                .unwrap()
                .host(&portal)
        );
        assert!(
            Query::parse("domain=danang.test owner~min tag=portal score<50")
                .unwrap()
                .host(&portal)
        );
        assert!(!Query::parse("domain=hue.test").unwrap().host(&portal));
        // The network zone is the inventory's, none for this host.
        assert!(!Query::parse("zone=dc").unwrap().host(&portal));
        assert!(Query::parse("zone!=dc").unwrap().host(&portal));
        let in_dc = HostLine {
            zone: Some("dc".into()),
            ..portal.clone()
        };
        assert!(Query::parse("zone=DC").unwrap().host(&in_dc));
        assert!(Query::parse("").unwrap().host(&portal));
    }

    #[test]
    fn broken_sorts_below_l0_and_ungraded_hosts_have_no_level() {
        let broken = host("a.test", "x", Some(Level::Broken), &[]);
        assert!(Query::parse("level<L0").unwrap().host(&broken));
        assert!(
            Query::parse("level=broken regressed=yes")
                .unwrap()
                .host(&broken)
        );
        let new = host("b.test", "x", None, &[]);
        assert!(!Query::parse("level<L3").unwrap().host(&new));
        assert!(Query::parse("level!=L3").unwrap().host(&new));
    }

    #[test]
    fn an_unknown_value_meets_only_not_equal() {
        let new = host("b.test", "x", None, &[]);
        for (text, holds) in [
            ("level<L3", false),
            ("level>=BROKEN", false),
            ("level!=L3", true),
            ("score<101", false),
            ("score!=50", true),
            ("regressed=no", false),
            ("regressed=yes", false),
            ("regressed!=yes", true),
        ] {
            assert_eq!(Query::parse(text).unwrap().host(&new), holds, "{text}");
        }
        let graded = host("a.test", "x", Some(Level::L2), &[]);
        assert!(Query::parse("regressed=no").unwrap().host(&graded));
        assert!(!Query::parse("regressed!=no").unwrap().host(&graded));
    }

    #[test]
    fn a_term_about_sites_leaves_hosts_alone() {
        let query = Query::parse("agency=dict rsrp<-100 ipv6=no").unwrap();
        assert!(query.host(&host("a.test", "dict", None, &[])));
        assert!(!query.host(&host("a.test", "health", None, &[])));
    }

    #[test]
    fn a_bad_query_says_which_term_and_why() {
        let error = |text: &str| Query::parse(text).unwrap_err().0;
        assert!(error("levl<L3").contains("`levl` is not a key: hosts take fqdn"));
        assert!(error("level<L9").contains("`L9` is not a level"));
        assert!(error("rsrp<strong").contains("rsrp is a number"));
        assert!(error("rsrp<nan").contains("rsrp is a number, not `nan`"));
        assert!(error("score>=NaN").contains("score is a number"));
        assert!(error("agency").contains("no operator"));
        assert!(error("agency=").contains("both sides"));
        assert!(error("agency<dict").contains("agency takes = != ~"));
        assert!(error("stage=done").contains("not a stage"));
        assert!(error("ipv6=maybe").contains("yes or no"));
        assert!(error("state=fine").contains("not a site state"));
        assert!(error("level~L2").contains("level takes = != < <= > >="));
        assert!(error("rsrp~-100").contains("rsrp takes"));
    }

    #[test]
    fn operators_are_read_longest_first() {
        let query = Query::parse("score<=48 score>=48").unwrap();
        assert!(query.host(&host("a.test", "x", Some(Level::L1), &[])));
        assert_eq!(
            Query::parse("  level<L3   agency=dict ").unwrap().text(),
            "level<L3 agency=dict"
        );
    }
}
