//! Building a request field by field, for callers whose requests are not
//! JSON (rows of a table). Every value goes through the same validation
//! functions as the JSON parser ([`crate::request`]), with the same messages
//! and paths, so a built request is invalid exactly when the JSON request
//! with the same keys and values would be. One builder is reused for many
//! requests: [`RequestBuilder::reset`] keeps every buffer.

use std::borrow::Cow;

use crate::compile::Compiled;
use crate::json::J;
use crate::model::{CONSENT_UNKNOWN, ContextType};
use crate::request::{
    CtxVal, Request, RequestError, RequestErrors, consent_state, context_value, declared, role_bit,
};

/// A value for a context field, as a table cell holds it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FieldValue<'a> {
    /// A JSON string: a string, enum variant or duration text such as `"90d"`.
    Str(&'a str),
    /// A JSON integer.
    Int(i128),
    Bool(bool),
    /// A duration already in seconds (an Arrow duration cell): valid for a
    /// duration field exactly when the JSON text `"<secs>s"` would be, i.e.
    /// when it is not negative.
    Seconds(i64),
}

/// Builds a [`Request`] of one policy from separate values.
pub struct RequestBuilder<'c> {
    c: &'c Compiled,
    req: Request,
    errors: Vec<RequestError>,
    /// Bits 0, 1, 2: tenant, surface, purpose given (even if invalid).
    given: u8,
    /// Strings of the previous request, kept for their capacity.
    spare: [Option<String>; 4],
    /// The same for string context fields, one slot per field.
    spare_context: Vec<Option<String>>,
}

impl Compiled {
    /// A builder of requests for this policy.
    pub fn request_builder(&self) -> RequestBuilder<'_> {
        RequestBuilder {
            c: self,
            req: self.blank_request(),
            errors: Vec::new(),
            given: 0,
            spare: [None, None, None, None],
            spare_context: vec![None; self.model().context.len()],
        }
    }
}

/// Moves `s` into `slot`, reusing the string kept in `spare`.
fn put(slot: &mut Option<String>, spare: &mut Option<String>, s: &str) {
    let mut buf = slot.take().or_else(|| spare.take()).unwrap_or_default();
    buf.clear();
    buf.push_str(s);
    *slot = Some(buf);
}

impl<'c> RequestBuilder<'c> {
    /// Starts a new request: nothing given, every consent topic unknown.
    pub fn reset(&mut self) {
        let r = &mut self.req;
        for (slot, spare) in [
            &mut r.tenant,
            &mut r.user_id,
            &mut r.anonymous_id,
            &mut r.consent_version,
        ]
        .into_iter()
        .zip(self.spare.iter_mut())
        {
            if let Some(s) = slot.take() {
                *spare = Some(s);
            }
        }
        r.surface = None;
        r.purpose = None;
        r.consent.fill(CONSENT_UNKNOWN as u8);
        for (slot, spare) in r.context.iter_mut().zip(self.spare_context.iter_mut()) {
            if let Some(CtxVal::Str(s)) = slot.take() {
                *spare = Some(s);
            }
        }
        r.roles = 0;
        r.features = None;
        self.errors.clear();
        self.given = 0;
    }

    fn bad(&mut self, path: impl Into<String>, message: String) {
        self.errors.push(RequestError {
            path: path.into(),
            message,
        });
    }

    pub fn tenant(&mut self, s: &str) {
        self.given |= 1;
        put(&mut self.req.tenant, &mut self.spare[0], s);
    }

    pub fn surface(&mut self, s: &str) {
        self.given |= 2;
        let m = self.c.model();
        match declared(&self.c.names.surfaces, &m.surfaces, "surface", s) {
            Ok(i) => self.req.surface = Some(i),
            Err(why) => self.bad("$.surface", why),
        }
    }

    pub fn purpose(&mut self, s: &str) {
        self.given |= 4;
        let m = self.c.model();
        match declared(&self.c.names.purposes, &m.purposes, "purpose", s) {
            Ok(i) => self.req.purpose = Some(i),
            Err(why) => self.bad("$.purpose", why),
        }
    }

    /// Sets the surface by its index in `model().surfaces` (a constant
    /// resolved once, not looked up per request); one out of range is an
    /// error of the request.
    pub fn surface_index(&mut self, i: u32) {
        self.given |= 2;
        if (i as usize) < self.c.model().surfaces.len() {
            self.req.surface = Some(i);
        } else {
            self.bad("$.surface", format!("surface {i} is not declared"));
        }
    }

    /// Sets the purpose by its index in `model().purposes`, as
    /// [`Self::surface_index`] does the surface.
    pub fn purpose_index(&mut self, i: u32) {
        self.given |= 4;
        if (i as usize) < self.c.model().purposes.len() {
            self.req.purpose = Some(i);
        } else {
            self.bad("$.purpose", format!("purpose {i} is not declared"));
        }
    }

    pub fn user_id(&mut self, s: &str) {
        put(&mut self.req.user_id, &mut self.spare[1], s);
    }

    pub fn anonymous_id(&mut self, s: &str) {
        put(&mut self.req.anonymous_id, &mut self.spare[2], s);
    }

    pub fn consent_version(&mut self, s: &str) {
        put(&mut self.req.consent_version, &mut self.spare[3], s);
    }

    /// Sets consent topic `topic` (an index into `model().consent_topics`;
    /// one out of range is an error of the request).
    pub fn consent(&mut self, topic: u32, state: &str) {
        let m = self.c.model();
        let Some(name) = m.consent_topics.get(topic as usize) else {
            self.bad(
                "$.consent",
                format!("consent topic {topic} is not declared"),
            );
            return;
        };
        match consent_state(state) {
            Ok(v) => {
                if let Some(slot) = self.req.consent.get_mut(topic as usize) {
                    *slot = v;
                }
            }
            Err(why) => self.bad(format!("$.consent.{name}"), why),
        }
    }

    /// Sets context field `field` (an index into `model().context`).
    pub fn context(&mut self, field: u32, value: FieldValue<'_>) {
        let m = self.c.model();
        let fi = field as usize;
        let Some(f) = m.context.get(fi) else {
            self.bad(
                "$.context",
                format!("context field {field} is not declared"),
            );
            return;
        };
        let j = match value {
            FieldValue::Str(s) if f.ty == ContextType::String => {
                // A string field takes any string: reuse the previous
                // request's buffer rather than allocate one per row.
                let mut buf = self
                    .spare_context
                    .get_mut(fi)
                    .and_then(Option::take)
                    .unwrap_or_default();
                buf.clear();
                buf.push_str(s);
                if let Some(slot) = self.req.context.get_mut(fi) {
                    *slot = Some(CtxVal::Str(buf));
                }
                return;
            }
            FieldValue::Str(s) => J::Str(Cow::Borrowed(s)),
            FieldValue::Int(i) => J::Int(i),
            FieldValue::Bool(b) => J::Bool(b),
            FieldValue::Seconds(secs) => {
                if f.ty == ContextType::Duration && secs >= 0 {
                    if let Some(slot) = self.req.context.get_mut(fi) {
                        *slot = Some(crate::CtxVal::Dur(secs));
                    }
                    return;
                }
                // A negative duration has no JSON text; any other type is
                // refused by the same check as a JSON integer would be.
                if f.ty == ContextType::Duration {
                    let why = format!("must be a duration such as `\"90d\"`, found `{secs}s`");
                    self.bad(
                        format!("$.context.{}", f.name),
                        format!("`context.{}` {why}", f.name),
                    );
                    return;
                }
                J::Int(secs.into())
            }
        };
        match context_value(&f.ty, self.c.names.variants.get(fi), &j) {
            Ok(v) => {
                if let Some(slot) = self.req.context.get_mut(fi) {
                    *slot = Some(v);
                }
            }
            Err(why) => self.bad(
                format!("$.context.{}", f.name),
                format!("`context.{}` {why}", f.name),
            ),
        }
    }

    /// Adds item `i` of `roles`; `None` is a JSON `null` item (an error).
    pub fn role(&mut self, i: usize, role: Option<&str>) {
        match role.map(|s| role_bit(self.c, s)) {
            Some(Ok(bit)) => self.req.roles |= bit,
            Some(Err(why)) => self.bad(format!("$.roles[{i}]"), why),
            None => self.bad(
                format!("$.roles[{i}]"),
                "a role must be a string, found null".to_string(),
            ),
        }
    }

    /// Sets `features` to these registry positions (duplicates count once).
    pub fn features(&mut self, ids: impl IntoIterator<Item = u32>) {
        let mut out = self.req.features.take().unwrap_or_default();
        out.clear();
        for i in ids {
            // A table has tens of feature columns: a scan is cheaper than a set.
            if !out.contains_known(i) {
                out.push_known(i);
            }
        }
        self.req.features = Some(out);
    }

    /// Records an error for a value that has no JSON form at all (a cell of
    /// a table that no request could hold, such as a fraction of a second).
    pub fn error(&mut self, path: impl Into<String>, message: String) {
        self.bad(path, message);
    }

    /// Whether any value given so far was invalid (required keys aside).
    pub fn has_errors(&self) -> bool {
        !self.errors.is_empty()
    }

    /// The request, or every error of it (a missing `tenant`, `surface` or
    /// `purpose` included), as the JSON parser reports them.
    pub fn finish(&self) -> Result<&Request, RequestErrors> {
        if self.is_valid() {
            return Ok(&self.req);
        }
        let mut errors = self.errors.clone();
        for (i, key) in ["tenant", "surface", "purpose"].iter().enumerate() {
            if self.given >> i & 1 == 0 {
                errors.push(RequestError {
                    path: "$".into(),
                    message: format!("missing required key `{key}`"),
                });
            }
        }
        Err(RequestErrors(errors))
    }

    /// Whether the request is valid, without building its errors' list.
    pub fn is_valid(&self) -> bool {
        self.errors.is_empty() && self.given == 7
    }

    /// The request as built so far; meaningful when [`Self::is_valid`].
    pub fn request(&self) -> &Request {
        &self.req
    }
}
