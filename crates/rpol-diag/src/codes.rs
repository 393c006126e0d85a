//! Every error and lint code: the single source of `rpol explain`, SARIF rule
//! metadata and `docs/errors.md` (a test keeps the doc in sync).

use crate::Severity;

pub struct CodeInfo {
    pub code: &'static str,
    pub title: &'static str,
    pub severity: Severity,
    pub explanation: &'static str,
    /// Language of the examples: `rpol` or `yaml`.
    pub lang: &'static str,
    pub wrong: &'static str,
    pub right: &'static str,
}

const E: Severity = Severity::Error;
const W: Severity = Severity::Warning;

pub const CODES: &[CodeInfo] = &[
    CodeInfo {
        code: "E0100",
        title: "syntax error",
        severity: E,
        explanation: "The file does not follow the RPOL grammar. The message says what was expected at the span and what was found. A file with a syntax error is not checked further (names declared in it would be missing) and `rpol fmt` leaves it untouched.",
        lang: "rpol",
        wrong: "mode personalized { grants: [behavior, profile }",
        right: "mode personalized { grants: [behavior, profile] }",
    },
    CodeInfo {
        code: "E0101",
        title: "limit exceeded",
        severity: E,
        explanation: "A resource limit protects every tool from hostile or runaway input: a file on disk over its read limit (16 MiB for a `.rpol` file, 64 MiB for a registry; counted while reading, so a file that lies about its size is refused too), a source file over 4 MiB, brackets nested deeper than 64 levels, more than 64 consecutive `not`, a string literal over 64 KiB, or more than 64 capabilities, modes, purposes, surfaces or roles. See docs/limits.md.",
        lang: "rpol",
        wrong: "source s { when: ((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((tenant == \"a\")))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))) }",
        right: "source s { when: tenant == \"a\" }",
    },
    CodeInfo {
        code: "E0102",
        title: "file refused: outside the workspace, or not a regular file",
        severity: E,
        explanation: "The tools read only regular files, and a policy may only make them read files inside its workspace: the nearest directory above the policy that holds `.git` (see docs/limits.md). A `registry:` path, or a `.rpol` file under a policy directory, that resolves outside it once every symlink is followed (a committed `zz.rpol -> /etc/passwd`, `registry: \"/proc/self/environ\"`) is refused and never read, so its content cannot appear in a diagnostic. A FIFO, device, socket or directory where a file is expected is refused before it is opened: reading it could block or never end. The path given on the command line anchors the workspace (a directory as `rpol check DIR`; a file's own directory as `rpol check FILE`, so a file that is a symlink out of its directory's workspace is refused too), and `--registry FILE`, `--input FILE` and a decision log are the user's own choice and may lie anywhere; all must still be regular files.",
        lang: "rpol",
        wrong: "policy home_feed {\n  version: \"1\"\n  registry: \"/etc/passwd\"\n}",
        right: "policy home_feed {\n  version: \"1\"\n  registry: \"features.yaml\"\n}",
    },
    CodeInfo {
        code: "E0103",
        title: "character not allowed in a policy file",
        severity: E,
        explanation: "A policy file must read the same to rpol as it looks in an editor. A carriage return without a line feed (a lone CR) is a line break to every editor but not to rpol, so `# reviewed\\rforbid feature x` would be a comment that looks like a rule; the line and paragraph separators U+2028 and U+2029 and other control characters (U+0000 to U+001F except tab and line feed, U+007F to U+009F) are refused for the same reason, wherever they appear. Strings may not contain them either, written raw or as a `\\u{…}` escape (they reach users through reason texts); `\\n` and `\\t` are the escapes for a line break and a tab. LF and CRLF line ends are both accepted.",
        lang: "rpol",
        wrong: "reason ring { text: \"Ding\\u{7}\", codes: [\"ring_*\"] }",
        right: "reason ring { text: \"Ding\", codes: [\"ring_*\"] }",
    },
    CodeInfo {
        code: "E0201",
        title: "unknown name",
        severity: E,
        explanation: "A name does not resolve to a declaration of the kind expected at that place (a mode, capability, purpose, feature, consent topic, context field, enum variant, …). The help line suggests the closest declared name. An unresolved name could silently disable a restriction, so it is always an error.",
        lang: "rpol",
        wrong: "mode basic { grants: [coarse] }\nresolve mode {\n  else => basik\n}",
        right: "mode basic { grants: [coarse] }\nresolve mode {\n  else => basic\n}",
    },
    CodeInfo {
        code: "E0202",
        title: "duplicate declaration",
        severity: E,
        explanation: "A name is declared twice in the same namespace (each kind — purposes, modes, sources, … — is its own namespace), a vocabulary or a `context`/`retention`/`debug` block appears twice, or a field is given twice. The first declaration is shown as a secondary label.",
        lang: "rpol",
        wrong: "source user_cf { requires: [behavior] }\nsource user_cf { }",
        right: "source user_cf { requires: [behavior] }\nsource item_cf { }",
    },
    CodeInfo {
        code: "E0203",
        title: "no `policy` block, or more than one",
        severity: E,
        explanation: "A policy (the `.rpol` files under one path) must contain exactly one `policy` header. It names the policy, its version and its registry.",
        lang: "rpol",
        wrong: "purposes [personalization]",
        right: "policy home_feed {\n  version: \"1\"\n  registry: \"features.yaml\"\n}\npurposes [personalization]",
    },
    CodeInfo {
        code: "E0301",
        title: "type mismatch or wrong kind of value",
        severity: E,
        explanation: "An expression compares values of different types (`surface == \"home\"` compares a surface with a string), orders something that is not an int or a duration, uses a non-bool as a condition, calls an unknown function or with the wrong arguments, or a field holds the wrong kind of value. Names (surfaces, purposes, modes, enum variants) are written without quotes.",
        lang: "rpol",
        wrong: "source home_only { when: surface == \"home\" }",
        right: "source home_only { when: surface == home }",
    },
    CodeInfo {
        code: "E0302",
        title: "unknown field",
        severity: E,
        explanation: "A block has a field its kind does not define. A misspelt field would otherwise be ignored — and a misspelt `requires` would silently drop a restriction — so it is an error with a did-you-mean.",
        lang: "rpol",
        wrong: "class behavioral { requries: [behavior], personal: true }",
        right: "class behavioral { requires: [behavior], personal: true }",
    },
    CodeInfo {
        code: "E0303",
        title: "missing required field",
        severity: E,
        explanation: "A required field is absent: `version` in `policy`, `modes` and `features` in `feature_set`, `text` and `codes` in `reason`, or `tenant`, `surface` and `purpose` in a test's `given`.",
        lang: "rpol",
        wrong: "reason trending { codes: [\"trending_*\"] }",
        right: "reason trending {\n  text: \"Trending in your region\"\n  codes: [\"trending_*\"]\n}",
    },
    CodeInfo {
        code: "E0304",
        title: "invalid value",
        severity: E,
        explanation: "A value is of the right kind but not allowed: a zero or negative retention (a retention of zero cannot be enforced), a reason pattern with more than one `*`, an empty `features` list in a feature set, a non-positive `min_group` or `retention_days`, a `retention_days` over 36500 (100 years), a registry feature `name` that is not an identifier (`[A-Za-z_][A-Za-z0-9_]*`: no spaces, no look-alike non-ASCII letters), or a duration too large for 64-bit seconds.",
        lang: "rpol",
        wrong: "retention { session_state: 0d }",
        right: "retention { session_state: 24h }",
    },
    CodeInfo {
        code: "E0305",
        title: "`exists` on a path that is always present",
        severity: E,
        explanation: "`exists(path)` tests an optional value (`subject.user_id`, `consent_version`, `context.*`, `feature.retention`). On a path that is always present (`tenant`, `surface`, `purpose`, `consent.*`, …) it is always true, which usually means the author meant a different path.",
        lang: "rpol",
        wrong: "source s { when: exists(tenant) }",
        right: "source s { when: exists(subject.user_id) }",
    },
    CodeInfo {
        code: "E0306",
        title: "`mode` used inside `resolve`",
        severity: E,
        explanation: "`resolve mode` decides the mode, so its conditions cannot read it. Read the request instead (consent, subject, context, …).",
        lang: "rpol",
        wrong: "resolve mode {\n  when mode == basic => personalized\n  else => basic\n}",
        right: "resolve mode {\n  when consent.personalization == granted => personalized\n  else => basic\n}",
    },
    CodeInfo {
        code: "E0401",
        title: "registry missing, unreadable or invalid",
        severity: E,
        explanation: "The feature registry could not be used: the file does not exist or cannot be read, the YAML is invalid, the top level is not `features:`, an entry lacks a required key or has a value of the wrong type, or an entry has an unknown key. Unknown keys are errors because a typo (`prohibted_purposes`) must not silently drop a restriction. The span points into the YAML.",
        lang: "yaml",
        wrong: "features:\n  - name: user_embedding\n    entity: user\n    privacy_class: behavioral\n    allowed_privacy_modes: [personalized]\n    allowed_purposes: [personalization]\n    prohibted_purposes: [ads]",
        right: "features:\n  - name: user_embedding\n    entity: user\n    privacy_class: behavioral\n    allowed_privacy_modes: [personalized]\n    allowed_purposes: [personalization]\n    prohibited_purposes: [ads]",
    },
    CodeInfo {
        code: "E0402",
        title: "registry names an undeclared class, mode, purpose or consent topic",
        severity: E,
        explanation: "A registry entry refers to a class, mode, purpose or consent topic the policy does not declare. The registry and the policy must agree on every name, or a permission could attach to nothing.",
        lang: "yaml",
        wrong: "  - name: item_score\n    entity: item\n    privacy_class: public\n    allowed_privacy_modes: [basic]\n    allowed_purposes: [personalisation]",
        right: "  - name: item_score\n    entity: item\n    privacy_class: public\n    allowed_privacy_modes: [basic]\n    allowed_purposes: [personalization]",
    },
    CodeInfo {
        code: "E0403",
        title: "purpose both allowed and prohibited",
        severity: E,
        explanation: "A feature lists a purpose in both `allowed_purposes` and `prohibited_purposes`. The evaluator would deny it (prohibition is checked first), but the entry is contradictory and must be fixed.",
        lang: "yaml",
        wrong: "    allowed_purposes: [personalization, ads]\n    prohibited_purposes: [ads]",
        right: "    allowed_purposes: [personalization]\n    prohibited_purposes: [ads]",
    },
    CodeInfo {
        code: "E0404",
        title: "registry allows a feature in a mode that cannot grant it",
        severity: E,
        explanation: "A feature's `allowed_privacy_modes` lists a mode that does not grant every capability its class requires, so the registry promises something the policy can never give. The labels show the mode and the class.",
        lang: "yaml",
        wrong: "  - name: user_embedding\n    privacy_class: behavioral      # requires [behavior]\n    allowed_privacy_modes: [personalized, basic]   # basic grants [coarse]",
        right: "  - name: user_embedding\n    privacy_class: behavioral\n    allowed_privacy_modes: [personalized]",
    },
    CodeInfo {
        code: "E0405",
        title: "retention longer than the class allows",
        severity: E,
        explanation: "A feature's `retention_days` is longer than its class's `max_retention`. Data of that class may not be kept that long.",
        lang: "yaml",
        wrong: "    privacy_class: behavioral   # max_retention: 90d\n    retention_days: 365",
        right: "    privacy_class: behavioral\n    retention_days: 90",
    },
    CodeInfo {
        code: "E0406",
        title: "duplicate feature in the registry",
        severity: E,
        explanation: "Two registry entries have the same `name`. A feature has exactly one set of rules; with two, which one applies would be an accident of order.",
        lang: "yaml",
        wrong: "  - name: item_score\n    …\n  - name: item_score\n    …",
        right: "  - name: item_score\n    …\n  - name: item_score_v2\n    …",
    },
    CodeInfo {
        code: "E0407",
        title: "debug visibility lower than the class's",
        severity: E,
        explanation: "A feature's `debug_visibility` is less restrictive than its class's `debug` (open < restricted < hidden). A registry entry may tighten its class's visibility, never loosen it.",
        lang: "yaml",
        wrong: "    privacy_class: behavioral   # debug: restricted\n    debug_visibility: open",
        right: "    privacy_class: behavioral\n    debug_visibility: hidden",
    },
    CodeInfo {
        code: "E0501",
        title: "no `resolve mode`, more than one, or no `else`",
        severity: E,
        explanation: "A policy has exactly one `resolve mode` block, and it ends with an `else` arm. The `else` target is the fallback mode, used when no arm is true and for invalid requests.",
        lang: "rpol",
        wrong: "resolve mode {\n  when consent.personalization == granted => personalized\n}",
        right: "resolve mode {\n  when consent.personalization == granted => personalized\n  else => basic\n}",
    },
    CodeInfo {
        code: "E0502",
        title: "feature in a feature set is not usable in one of its modes",
        severity: E,
        explanation: "A ranking route lists a feature that the registry does not allow in one of the route's modes, or whose class needs a capability the mode does not grant. The route would fetch a feature that is always denied.",
        lang: "rpol",
        wrong: "feature_set home_all {\n  modes: [personalized, basic]\n  features: [item_score, user_embedding]\n}",
        right: "feature_set home_all {\n  modes: [personalized, basic]\n  features: [item_score]\n}",
    },
    CodeInfo {
        code: "E0503",
        title: "two feature sets can match the same surface and mode",
        severity: E,
        explanation: "Each (surface, mode) has at most one route. Two feature sets whose modes overlap and whose surfaces overlap (no `surfaces` means every surface) make the route ambiguous. Each set that overlaps an earlier one is reported once, with the first earlier set it overlaps; several sets overlapping one earlier set are one error that names the first three and counts the rest.",
        lang: "rpol",
        wrong: "feature_set a { modes: [basic], surfaces: [home], features: [item_score] }\nfeature_set b { modes: [basic], features: [item_score] }",
        right: "feature_set a { modes: [basic], surfaces: [home], features: [item_score] }\nfeature_set b { modes: [basic], surfaces: [pdp], features: [item_score] }",
    },
    CodeInfo {
        code: "E0504",
        title: "reason draws from a sensitive or hidden feature",
        severity: E,
        explanation: "A user-facing reason lists in `from` a feature whose class is `sensitive` or whose debug visibility is `hidden`. An explanation may never reveal such a signal.",
        lang: "rpol",
        wrong: "reason health { text: \"Because of your interests\", codes: [\"health_*\"], from: [inferred_health_interest] }",
        right: "reason health { text: \"Popular right now\", codes: [\"health_*\"] }",
    },
    CodeInfo {
        code: "E0505",
        title: "two reasons' patterns can match the same code",
        severity: E,
        explanation: "Every reason code maps to at most one reason. Two patterns of different reasons that can match a common code (`similar_*` and `similar_items_*`) make the explanation ambiguous. A pattern repeated by several reasons is one error that names the first three reasons and counts the rest.",
        lang: "rpol",
        wrong: "reason similar { text: \"Similar\", codes: [\"similar_*\"] }\nreason similar_items { text: \"Similar items\", codes: [\"similar_items_*\"] }",
        right: "reason similar { text: \"Similar\", codes: [\"similar_users_*\"] }\nreason similar_items { text: \"Similar items\", codes: [\"similar_items_*\"] }",
    },
    CodeInfo {
        code: "E0601",
        title: "invalid test block",
        severity: E,
        explanation: "A `test` block must contain exactly one `given { … }` request. (Unknown names in `expect` lines, and unknown deny codes, are reported as E0201.)",
        lang: "rpol",
        wrong: "test \"anonymous\" {\n  expect mode == basic\n}",
        right: "test \"anonymous\" {\n  given { tenant: \"acme\", surface: home, purpose: personalization }\n  expect mode == basic\n}",
    },
    CodeInfo {
        code: "E0602",
        title: "`rpol test --filter` matches no test",
        severity: E,
        explanation: "`--filter TEXT` runs the tests whose name contains TEXT. When no test of any policy given matches, nothing is tested, and \"0 passed, 0 failed\" would let a CI step pass that checks nothing (a typo, or a test renamed). `rpol test` stops with exit code 2 instead and says how many tests there are. Run without `--filter` to see every test's name.",
        lang: "rpol",
        wrong: "# rpol test --filter \"consnet\" policies/home\ntest \"consent is required\" { given { tenant: \"acme\", surface: home, purpose: personalization } expect mode == basic }",
        right: "# rpol test --filter \"consent\" policies/home\ntest \"consent is required\" { given { tenant: \"acme\", surface: home, purpose: personalization } expect mode == basic }",
    },
    CodeInfo {
        code: "E0701",
        title: "the request space has too many regions to analyse",
        severity: E,
        explanation: "`rpol diff` and `rpol verify` split the request space into regions in which every request is decided alike, and visit every region; they never report \"equal\" or \"holds\" without having covered all of them. When the product of the classes of the fields the policies read exceeds the bound (`--max-regions`, default 10,000,000), the analysis stops and names the fields that blow the count up. Fewer distinct literals per field (or fewer roles tested with `in roles`) shrink the space; `--max-regions` raises the bound.",
        lang: "rpol",
        wrong: "# every literal of every field multiplies the regions\nsource s { when: context.region in [\"de\", \"fr\", \"it\", \"es\", \"nl\", \"pl\"] and context.age > 17 }",
        right: "# one enum field with the distinction the policy needs\nsource s { when: context.market == eu and context.adult }",
    },
    CodeInfo {
        code: "E0702",
        title: "a condition compares two request fields",
        severity: E,
        explanation: "Region analysis splits each request field by the literals it is compared with. A comparison of two request fields with each other (`tenant == consent_version`, `context.a < context.b`) relates them along a diagonal that no field-by-field split captures, so `rpol diff` and `rpol verify` refuse the policy rather than give an answer they cannot prove. Consent states and booleans, which are enumerated completely, may be compared with each other.",
        lang: "rpol",
        wrong: "source s { when: context.max_age < context.age }",
        right: "source s { when: context.age > 18 }",
    },
    CodeInfo {
        code: "E0801",
        title: "`rpol serve` on a non-loopback address without a token",
        severity: E,
        explanation: "`rpol serve` answers anyone who can reach its socket. It listens on `127.0.0.1:8181` by default, reachable only from the same host (or pod, as a sidecar). Binding any other address (`0.0.0.0`, a LAN address) is refused unless `--auth-token-file FILE` is given; then every endpoint but `/health` and `/health/ready` requires `Authorization: Bearer TOKEN`. See docs/serving.md.",
        lang: "sh",
        wrong: "rpol serve policies/home --listen 0.0.0.0:8181",
        right: "rpol serve policies/home --listen 0.0.0.0:8181 --auth-token-file /run/secrets/rpol-token",
    },
    CodeInfo {
        code: "E0802",
        title: "unusable auth token file",
        severity: E,
        explanation: "The file given to `rpol serve --auth-token-file` must be readable and hold one token of at least 16 printable ASCII characters without spaces (surrounding whitespace and the final newline are ignored), since clients send it in an HTTP header.",
        lang: "sh",
        wrong: "echo secret > token\nrpol serve policies/home --auth-token-file token",
        right: "openssl rand -hex 32 > token\nrpol serve policies/home --auth-token-file token",
    },
    CodeInfo {
        code: "L001",
        title: "declared but unused",
        severity: W,
        explanation: "A purpose, consent topic, capability, role or class that nothing in the policy or the registry refers to. Unused names often hide a typo elsewhere.",
        lang: "rpol",
        wrong: "roles [sre, auditor]\ndebug { sre: open }",
        right: "roles [sre, auditor]\ndebug { sre: open, auditor: restricted }",
    },
    CodeInfo {
        code: "L002",
        title: "unreachable `resolve` arm",
        severity: W,
        explanation: "An arm that follows an always-true arm, or repeats an earlier condition, can never decide the mode.",
        lang: "rpol",
        wrong: "resolve mode {\n  when consent.personalization == granted => personalized\n  when consent.personalization == granted => basic\n  else => basic\n}",
        right: "resolve mode {\n  when consent.personalization == granted => personalized\n  else => basic\n}",
    },
    CodeInfo {
        code: "L003",
        title: "not fail-safe",
        severity: E,
        explanation: "With every consent topic `unknown`, `resolve` can yield a mode that grants a capability required by a `personal` class: missing consent would widen access. This lint is an error unless allowed with `# rpol: allow(L003)` above `resolve`.",
        lang: "rpol",
        wrong: "resolve mode {\n  when consent.personalization != denied => personalized\n  else => basic\n}",
        right: "resolve mode {\n  when consent.personalization == granted => personalized\n  else => basic\n}",
    },
    CodeInfo {
        code: "L004",
        title: "constant `when` condition",
        severity: W,
        explanation: "A `when` condition that is always true or never true does nothing or disables its rule.",
        lang: "rpol",
        wrong: "source always { when: purpose in [personalization, ads] }",
        right: "source ads_only { when: purpose == ads }",
    },
    CodeInfo {
        code: "L005",
        title: "`forbid` without `because`",
        severity: W,
        explanation: "Every restriction should say why; the text appears in decisions and reviews.",
        lang: "rpol",
        wrong: "forbid source user_cf when tenant == \"bank_a\"",
        right: "forbid source user_cf when tenant == \"bank_a\"\n  because \"bank_a opted out of collaborative filtering\"",
    },
    CodeInfo {
        code: "L006",
        title: "name is not snake_case",
        severity: W,
        explanation: "Names are `snake_case`: lower-case letters, digits and single underscores.",
        lang: "rpol",
        wrong: "source TrendingNow { }",
        right: "source trending_now { }",
    },
    CodeInfo {
        code: "L007",
        title: "registry feature that can never be allowed",
        severity: W,
        explanation: "No purpose and mode combination can allow the feature: every allowed purpose is also prohibited, or no allowed mode grants what its class requires.",
        lang: "yaml",
        wrong: "  - name: orphan_signal\n    entity: user\n    privacy_class: behavioral\n    allowed_privacy_modes: []\n    allowed_purposes: [personalization]",
        right: "  - name: orphan_signal\n    entity: user\n    privacy_class: behavioral\n    allowed_privacy_modes: [personalized]\n    allowed_purposes: [personalization]",
    },
    CodeInfo {
        code: "L008",
        title: "source that no mode can run",
        severity: W,
        explanation: "No mode grants every capability in the source's `requires`, so the source is always denied.",
        lang: "rpol",
        wrong: "mode personalized { grants: [behavior] }\nsource health { requires: [health] }",
        right: "mode personalized { grants: [behavior, health] }\nsource health { requires: [health] }",
    },
    CodeInfo {
        code: "L009",
        title: "mode never resolved",
        severity: W,
        explanation: "No `resolve` arm yields the mode, so nothing is ever served in it.",
        lang: "rpol",
        wrong: "mode frozen { grants: [] }\nresolve mode {\n  else => basic\n}",
        right: "mode frozen { grants: [] }\nresolve mode {\n  when tenant == \"frozen_co\" => frozen\n  else => basic\n}",
    },
    CodeInfo {
        code: "L010",
        title: "bidirectional control character in a string or comment",
        severity: W,
        explanation: "Unicode bidirectional controls (U+202A to U+202E, U+2066 to U+2069, U+200E, U+200F and U+061C) reorder how the text around them is displayed, so a reviewer can see code that differs from what rpol reads (\"Trojan Source\", CVE-2021-42574). Names cannot hold them, so they can only sit in strings and comments. Write them as `\\u{…}` escapes in a string if a text really needs one.",
        lang: "rpol",
        wrong: "# allowed for bank_a only <U+202E written raw> }",
        right: "# allowed for bank_a only",
    },
    CodeInfo {
        code: "L011",
        title: "`# rpol: allow(…)` names an unknown lint or property",
        severity: W,
        explanation: "An allow comment silences the lints (`L001` to `L012`) and accepts the `rpol verify` properties (`consent_monotonicity`, `fail_safe`, `mode_monotonicity`, `live_forbids`) it names, on the item right below it. A name that is neither does nothing, so a misspelt allow would leave the finding it was meant for, or hide that it was never needed. The did-you-mean hint names the closest code or property.",
        lang: "rpol",
        wrong: "# rpol: allow(live_forbid)\nforbid feature user_embedding when purpose == ads because \"the registry prohibits it too\"",
        right: "# rpol: allow(live_forbids)\nforbid feature user_embedding when purpose == ads because \"the registry prohibits it too\"",
    },
    CodeInfo {
        code: "L012",
        title: "`# rpol: allow(…)` that suppresses nothing",
        severity: W,
        explanation: "An allow comment names a lint that the item below it does not raise, so it suppresses nothing: the reason it was written no longer holds, and a reader would believe the item is an accepted exception. `rpol lint` reports it for lint codes; `rpol verify` reports an allowed property that holds on that item (a `live_forbids` allow above a forbid rule that is live; a `fail_safe`, `consent_monotonicity` or `mode_monotonicity` allow above `resolve` while the property holds). Remove the comment.",
        lang: "rpol",
        wrong: "# rpol: allow(L005)\nforbid source user_cf when tenant == \"acme\" because \"contract\"",
        right: "forbid source user_cf when tenant == \"acme\" because \"contract\"",
    },
];

/// Looks a code up, case-insensitively (`e0201` works).
pub fn lookup(code: &str) -> Option<&'static CodeInfo> {
    CODES
        .iter()
        .find(|c| c.code.eq_ignore_ascii_case(code.trim()))
}

/// The long description printed by `rpol explain`.
pub fn render_explain(info: &CodeInfo) -> String {
    let kind = match info.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    format!(
        "{} ({kind}): {}\n\n{}\n\nWrong:\n\n```{}\n{}\n```\n\nRight:\n\n```{}\n{}\n```\n",
        info.code, info.title, info.explanation, info.lang, info.wrong, info.lang, info.right
    )
}

/// `docs/errors.md`, generated from [`CODES`].
pub fn render_errors_markdown() -> String {
    let mut out = String::from(
        "# Error and lint codes\n\nGenerated from `crates/rpol-diag/src/codes.rs`, the same source as `rpol explain CODE`; a test keeps this file in sync (`UPDATE_DOCS=1 cargo test -p rpol-diag` rewrites it).\n\n",
    );
    for c in CODES {
        out.push_str(&format!(
            "- [{}](#{}) — {}\n",
            c.code,
            c.code.to_lowercase(),
            c.title
        ));
    }
    for c in CODES {
        out.push_str(&format!("\n## {}\n\n", c.code));
        out.push_str(
            &render_explain(c)
                .split_once("\n\n")
                .map_or(String::new(), |(_, rest)| rest.to_string()),
        );
    }
    out
}
