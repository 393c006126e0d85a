# ---------------------------------------------------------------------------
# Request validation (docs/reference.md, requests). Any error makes the request invalid;
# the decision is then the fallback decision of docs/reference.md.

has_key(o, k) if {
	_ = o[k]
}

top_keys := {"tenant", "surface", "purpose", "subject", "consent", "consent_version", "context", "roles", "features"}

errors contains "$: a request must be a JSON object" if {
	not is_object(input)
}

errors contains sprintf("$.%s: unknown key `%s`", [k, k]) if {
	is_object(input)
	some k, _ in input
	not k in top_keys
}

errors contains sprintf("$: missing required key `%s`", [k]) if {
	is_object(input)
	some k in ["tenant", "surface", "purpose"]
	not has_key(input, k)
}

errors contains "$.tenant: `tenant` must be a string" if {
	has_key(input, "tenant")
	not is_string(input.tenant)
}

errors contains sprintf("$.surface: `%v` is not a declared surface", [input.surface]) if {
	has_key(input, "surface")
	not input.surface in T.surfaces
}

errors contains sprintf("$.purpose: `%v` is not a declared purpose", [input.purpose]) if {
	has_key(input, "purpose")
	not input.purpose in T.purposes
}

errors contains "$.subject: `subject` must be an object" if {
	has_key(input, "subject")
	not is_object(input.subject)
}

errors contains sprintf("$.subject.%s: unknown key `%s`", [k, k]) if {
	is_object(input.subject)
	some k, _ in input.subject
	not k in {"user_id", "anonymous_id"}
}

errors contains sprintf("$.subject.%s: must be a string", [k]) if {
	is_object(input.subject)
	some k, v in input.subject
	not is_string(v)
}

errors contains "$.consent: `consent` must be an object" if {
	has_key(input, "consent")
	not is_object(input.consent)
}

errors contains sprintf("$.consent.%s: `%s` is not a declared consent topic", [k, k]) if {
	is_object(input.consent)
	some k, _ in input.consent
	not k in T.consent_topics
}

errors contains sprintf("$.consent.%s: not a consent state", [k]) if {
	is_object(input.consent)
	some k, v in input.consent
	not v in {"granted", "denied", "unknown"}
}

errors contains "$.consent_version: `consent_version` must be a string" if {
	has_key(input, "consent_version")
	not is_string(input.consent_version)
}

context_fields := {c.name: c | some c in T.context}

errors contains "$.context: `context` must be an object" if {
	has_key(input, "context")
	not is_object(input.context)
}

errors contains sprintf("$.context.%s: `%s` is not a declared context field", [k, k]) if {
	is_object(input.context)
	some k, _ in input.context
	not has_key(context_fields, k)
}

errors contains sprintf("$.context.%s: wrong type or value", [k]) if {
	is_object(input.context)
	some k, v in input.context
	has_key(context_fields, k)
	not context_ok(context_fields[k], v)
}

context_ok(c, v) if {
	c.type == "string"
	is_string(v)
}

context_ok(c, v) if {
	c.type == "int"
	is_number(v)
	v == round(v)
}

context_ok(c, v) if {
	c.type == "bool"
	is_boolean(v)
}

context_ok(c, v) if {
	c.type == "duration"
	is_string(v)
	regex.match(`^(0|[1-9][0-9]{0,17})[smhdw]$`, v)
	duration_seconds(v) <= 9223372036854775807
}

context_ok(c, v) if {
	c.type == "enum"
	is_string(v)
	v in c.variants
}

duration_units := {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}

duration_seconds(v) := to_number(substring(v, 0, count(v) - 1)) * duration_units[substring(v, count(v) - 1, 1)]

errors contains "$.roles: `roles` must be an array of role names" if {
	has_key(input, "roles")
	not is_array(input.roles)
}

errors contains sprintf("$.roles[%d]: `%v` is not a declared role", [i, r]) if {
	is_array(input.roles)
	some i, r in input.roles
	not r in T.roles
}

errors contains "$.features: `features` must be an array of feature names" if {
	has_key(input, "features")
	not is_array(input.features)
}

errors contains sprintf("$.features[%d]: a feature name must be a string", [i]) if {
	is_array(input.features)
	some i, x in input.features
	not is_string(x)
}

valid if count(errors) == 0

# ---------------------------------------------------------------------------
# The normalized request: absent optional values are null (a request can never
# carry a null); consent topics default to "unknown"; durations are
# seconds. An invalid request keeps only its tenant, surface, purpose and
# features (when each is valid), as the native fallback does.

subject_in := object.get(input, "subject", {})

consent_in := object.get(input, "consent", {})

context_in := object.get(input, "context", {})

context_value(c, v) := null if {
	v == null
} else := duration_seconds(v) if {
	c.type == "duration"
} else := v

req := {
	"tenant": input.tenant,
	"surface": input.surface,
	"purpose": input.purpose,
	"user_id": object.get(subject_in, "user_id", null),
	"anonymous_id": object.get(subject_in, "anonymous_id", null),
	"consent": {t: object.get(consent_in, t, "unknown") | some t in T.consent_topics},
	"consent_version": object.get(input, "consent_version", null),
	"context": {c.name: context_value(c, object.get(context_in, c.name, null)) | some c in T.context},
	"roles": {r | some r in object.get(input, "roles", [])},
} if {
	valid
} else := {
	"tenant": fallback_tenant,
	"surface": fallback_surface,
	"purpose": fallback_purpose,
	"user_id": null,
	"anonymous_id": null,
	"consent": {t: "unknown" | some t in T.consent_topics},
	"consent_version": null,
	"context": {c.name: null | some c in T.context},
	"roles": set(),
}

fallback_tenant := input.tenant if {
	is_string(input.tenant)
} else := null

fallback_surface := input.surface if {
	input.surface in T.surfaces
} else := null

fallback_purpose := input.purpose if {
	input.purpose in T.purposes
} else := null

# The request's `features`, deduplicated in order, when it is an array of names.
listed := [x | some i, x in input.features; not x in array.slice(input.features, 0, i)] if {
	is_array(input.features)
	every x in input.features {
		is_string(x)
	}
}

has_list if {
	_ = listed
}

# ---------------------------------------------------------------------------
# Kleene values: 0 false, 1 unknown, 2 true; null is an absent value.

k_eq(a, b) := 1 if {
	a == null
} else := 1 if {
	b == null
} else := 2 if {
	a == b
} else := 0

k_lt(a, b) := 1 if {
	a == null
} else := 1 if {
	b == null
} else := 2 if {
	a < b
} else := 0

k_starts(a, b) := 1 if {
	not is_string(a)
} else := 1 if {
	not is_string(b)
} else := 2 if {
	startswith(a, b)
} else := 0

k_truthy(a) := 2 if {
	a == true
} else := 0 if {
	a == false
} else := 1

k_exists(a) := 0 if {
	a == null
} else := 2

k_role(r) := 2 if {
	r in req.roles
} else := 0

# ---------------------------------------------------------------------------
# Shared steps of the decision (docs/reference.md).

grants := {c | some c in T.modes[mode]}

caps_ok(rs) if {
	every c in rs {
		c in grants
	}
}

# The capabilities in `rs` the mode does not grant, in declaration order.
missing_caps(rs) := concat(", ", [c | some c in T.capabilities; c in rs; not c in grants])

# The route: the feature set for the request's surface and mode (at most one, E0503).
surface_fits(fs) if {
	fs.surfaces == null
}

surface_fits(fs) if {
	req.surface in fs.surfaces
}

route_set := fs if {
	req.surface != null
	some fs in T.feature_sets
	mode in fs.modes
	surface_fits(fs)
}

route := x if {
	x := route_set.name
} else := null

# Features (docs/reference.md, steps 2-7); step 1 (unknown names) is `unknown_listed`.
feature_verdict(f) := {"code": "invalid_request", "detail": "the request's purpose is invalid"} if {
	req.purpose == null
} else := {"code": "purpose_prohibited", "detail": sprintf("the request's purpose is prohibited for feature %s", [f.name])} if {
	req.purpose in f.prohibited_purposes
} else := {"code": "purpose_not_allowed", "detail": sprintf("the request's purpose is not an allowed purpose of feature %s", [f.name])} if {
	not req.purpose in f.allowed_purposes
} else := {"code": "mode_not_allowed", "detail": sprintf("feature %s is not allowed in mode %s", [f.name, mode])} if {
	not mode in f.allowed_modes
} else := {"code": "capability_missing", "detail": sprintf("mode %s does not grant %s required by class %s", [mode, missing_caps(f.requires), f.class])} if {
	not caps_ok(f.requires)
} else := {"code": "consent_required", "detail": sprintf("feature %s requires consent %s to be granted", [f.name, f.requires_consent])} if {
	f.requires_consent != null
	req.consent[f.requires_consent] != "granted"
} else := feature_forbid(f)

# Which features the decision covers: the request's list, else the route's, else all.
covered contains i if {
	has_list
	some x in listed
	i := T.feature_index[x]
}

covered contains i if {
	not has_list
	route != null
	some x in route_set.features
	i := T.feature_index[x]
}

covered contains i if {
	not has_list
	route == null
	some i, _ in T.features
}

unknown_listed := [x | some x in listed; not has_key(T.feature_index, x)] if {
	has_list
} else := []

feature_verdicts := {i: feature_verdict(T.features[i]) | some i in covered}

allowed_features := {i | some i, v in feature_verdicts; v == "allow"}

source_decisions := {
	"allowed": [T.sources[i].name | some i, v in source_verdicts; v == "allow"],
	"denied": {T.sources[i].name: v | some i, v in source_verdicts; v != "allow"},
}

feature_decisions := {
	"allowed": [T.features[i].name | some i in sort(covered); feature_verdicts[i] == "allow"],
	"denied": object.union(
		{T.features[i].name: v | some i, v in feature_verdicts; v != "allow"},
		{x: {"code": "unknown_feature", "detail": sprintf("feature %s is not in the registry", [x])} | some x in unknown_listed},
	),
}

# Reasons (docs/reference.md): the one reason whose pattern matches (E0505 makes it unique).
pattern_match(p, c) if {
	not contains(p, "*")
	p == c
}

pattern_match(p, c) if {
	contains(p, "*")
	parts := split(p, "*")
	count(c) >= count(parts[0]) + count(parts[1])
	startswith(c, parts[0])
	endswith(c, parts[1])
}

reason_of(c) := r if {
	some r in T.reasons
	some p in r.codes
	pattern_match(p, c)
}

has_reason(c) if {
	_ = reason_of(c)
}

explain(c) := {"suppressed": "no_reason_for_code"} if {
	not has_reason(c)
} else := {"suppressed": "capability_missing"} if {
	not caps_ok(reason_of(c).requires)
} else := {"suppressed": "feature_denied"} if {
	some x in reason_of(c).from
	feature_verdict(T.features[T.feature_index[x]]) != "allow"
} else := {"suppressed": "forbidden"} if {
	reason_forbidden(reason_of(c).name)
} else := {"shown": reason_of(c).name, "text": reason_of(c).text}

# The cache scope (docs/reference.md).
personal_granted if {
	some c in T.personal_caps
	c in grants
}

subject := "*" if {
	not personal_granted
} else := req.user_id if {
	req.user_id != null
} else := req.anonymous_id if {
	req.anonymous_id != null
} else := "-"

dash(x) := "-" if {
	x == null
} else := x

pow2 := [1, 2, 4, 8, 16, 32, 64, 128]

cache_scope := concat("/", [
	dash(req.tenant),
	dash(req.surface),
	mode,
	subject,
	dash(req.consent_version),
	substring(T.digest, 0, 12),
	sha_hex8(array.concat(source_bytes, feature_bytes)),
])

# ---------------------------------------------------------------------------
# The decision (docs/reference.md), and the same with reasons for the given codes.

decision := {
	"policy": T.name,
	"version": T.version,
	"digest": T.digest,
	"mode": mode,
	"mode_rule": mode_rule,
	"route": route,
	"sources": source_decisions,
	"features": feature_decisions,
	"cache_scope": cache_scope,
}

with_reasons(codes) := object.union(decision, {"reasons": {c: explain(c) | some c in codes}})
