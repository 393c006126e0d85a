//! The canonical printer. Comments are replayed by position: own-line comments
//! before the construct that follows them, trailing comments after the
//! construct that ends on their line. Nothing is dropped: a comment the
//! layout has no slot for is printed on its own line before the next construct.

use rpol_syntax::ast::{
    Arm, BlockKind, Comment, Expect, ExpectKind, Expr, ExprKind, Field, Fields, File, Forbid, Item,
    ItemKind, Outcome, ReasonCodes, Targets, Test, Value,
};

/// Lines are kept within this width where the layout has a choice.
pub const MAX_WIDTH: usize = 100;

pub fn print(src: &str, file: &File) -> String {
    let mut line_starts = vec![0];
    line_starts.extend(
        src.bytes()
            .enumerate()
            .filter(|(_, b)| *b == b'\n')
            .map(|(i, _)| i + 1),
    );
    let mut p = Printer {
        src,
        comments: &file.comments,
        next: 0,
        out: String::with_capacity(src.len() + src.len() / 8),
        last_end: 0,
        line_starts,
    };
    for item in &file.items {
        p.item(item);
    }
    p.leading(src.len(), 0);
    let trimmed = p.out.trim_end().to_string();
    if trimmed.is_empty() {
        String::new()
    } else {
        trimmed + "\n"
    }
}

struct Printer<'a> {
    src: &'a str,
    comments: &'a [Comment],
    next: usize,
    out: String,
    /// Source offset where the last printed construct ended (for blank lines).
    last_end: usize,
    line_starts: Vec<usize>,
}

fn pad(indent: usize) -> String {
    " ".repeat(indent)
}

impl Printer<'_> {
    fn line_of(&self, offset: usize) -> usize {
        self.line_starts.partition_point(|&s| s <= offset) - 1
    }

    fn comment_text(c: &Comment) -> String {
        let t = if c.doc {
            format!("##{}", c.text)
        } else {
            format!("#{}", c.text)
        };
        t.trim_end().to_string()
    }

    fn is_trailing(&self, c: &Comment) -> bool {
        let line_start = self.src[..c.span.start].rfind('\n').map_or(0, |i| i + 1);
        !self.src[line_start..c.span.start].trim().is_empty()
    }

    fn has_comments(&self, start: usize, end: usize) -> bool {
        self.comments[self.next..]
            .iter()
            .any(|c| c.span.start >= start && c.span.start < end)
    }

    /// Whether the source has a blank line between two offsets.
    fn blank_between(&self, a: usize, b: usize) -> bool {
        if a >= b || b > self.src.len() {
            return false;
        }
        let parts: Vec<&str> = self.src[a..b].split('\n').collect();
        parts.len() >= 3
            && parts[1..parts.len() - 1]
                .iter()
                .any(|l| l.trim().is_empty())
    }

    /// Whether the output ends with a line that opens a block (`… {`); a
    /// comment line that happens to end in `{` does not (fuzzing found `##{`).
    fn just_opened_block(&self) -> bool {
        let body = self.out.strip_suffix('\n').unwrap_or(&self.out);
        let last = body.rsplit('\n').next().unwrap_or("");
        last.ends_with('{') && !last.trim_start().starts_with('#')
    }

    fn newline(&mut self) {
        while self.out.ends_with(' ') {
            self.out.pop();
        }
        self.out.push('\n');
    }

    /// Prints pending comments that start before `pos`, each on its own line.
    fn leading(&mut self, pos: usize, indent: usize) {
        while let Some(c) = self.comments.get(self.next) {
            if c.span.start >= pos {
                break;
            }
            if self.blank_between(self.last_end, c.span.start)
                && !self.out.is_empty()
                && !self.just_opened_block()
            {
                self.blank_line();
            }
            self.out.push_str(&pad(indent));
            self.out.push_str(&Self::comment_text(c));
            self.newline();
            self.last_end = c.span.end;
            self.next += 1;
        }
    }

    /// Appends a comment that sits on the same source line as `end`.
    fn trailing(&mut self, end: usize) {
        if let Some(c) = self.comments.get(self.next)
            && c.span.start >= end
            && self.is_trailing(c)
            && self.line_of(c.span.start) == self.line_of(end)
        {
            self.out.push(' ');
            self.out.push_str(&Self::comment_text(c));
            self.last_end = c.span.end;
            self.next += 1;
        }
        self.last_end = self.last_end.max(end);
    }

    /// Comments inside a one-line construct (e.g. between `forbid feature`
    /// and its target), skipped so that the line and its trailing comment
    /// print first; [`Printer::own_lines`] prints them after it.
    fn take_interior(&mut self, end: usize) -> Vec<Comment> {
        let mut taken = Vec::new();
        while let Some(c) = self.comments.get(self.next) {
            if c.span.start >= end {
                break;
            }
            taken.push(c.clone());
            self.next += 1;
        }
        taken
    }

    /// Prints comments on their own lines. A blank line after a `##` one
    /// keeps it from becoming the next item's doc comment, which would change
    /// the syntax tree (fuzzing found this).
    fn own_lines(&mut self, comments: &[Comment], indent: usize) {
        for c in comments {
            self.out.push_str(&pad(indent));
            self.out.push_str(&Self::comment_text(c));
            self.newline();
            self.last_end = self.last_end.max(c.span.end);
        }
        // Inside an item (indented) no doc comment can attach.
        if indent == 0 && comments.last().is_some_and(|c| c.doc) {
            self.blank_line();
        }
    }

    fn blank_line(&mut self) {
        if !self.out.is_empty() && !self.out.ends_with("\n\n") {
            self.out.push('\n');
        }
    }

    fn item(&mut self, item: &Item) {
        self.leading(item.span.start, 0);
        // Also keeps a blank line between a `##` comment and an item, which
        // decides whether the comment is the item's doc comment.
        if self.blank_between(self.last_end, item.span.start) {
            self.blank_line();
        }
        match &item.kind {
            ItemKind::Block { kind, name, fields } => {
                let header = format!("{} {}", kind.keyword(), name.name);
                let one_line = *kind != BlockKind::Policy
                    && fields.fields.len() <= 1
                    && !self.has_comments(item.span.start, item.span.end);
                self.fields_block(&header, fields, 0, item.span.end, one_line);
            }
            ItemKind::Vocab {
                kind,
                names,
                list_span,
            } => {
                let items: Vec<String> = names.iter().map(|n| n.name.clone()).collect();
                let starts: Vec<(usize, usize)> =
                    names.iter().map(|n| (n.span.start, n.span.end)).collect();
                let prefix = format!("{} ", kind.keyword());
                // Comments between the keyword and `[` are printed inside the
                // list, in order; left pending they would land before the next
                // item and a `##` one would become its doc (fuzzing found this).
                let kw_end = (item.span.start + kind.keyword().len()).min(list_span.start);
                let span = rpol_diag::Span::new(kw_end, list_span.end);
                self.list(&prefix, &items, &starts, span, 0);
                self.trailing(item.span.end);
                self.newline();
            }
            ItemKind::Table { kind, fields } => {
                self.fields_block(kind.keyword(), fields, 0, item.span.end, false);
            }
            ItemKind::Resolve { target, arms, .. } => self.resolve(&target.name, arms, item),
            ItemKind::Forbid(f) => self.forbid(f, item),
            ItemKind::Test(t) => self.test(t, item),
        }
        self.last_end = self.last_end.max(item.span.end);
    }

    /// `header { fields }`, on one line when allowed and short enough.
    fn fields_block(
        &mut self,
        header: &str,
        fields: &Fields,
        indent: usize,
        end: usize,
        one_line: bool,
    ) {
        // Pending comments from the header on (`reason r # c\n{}`) go inside
        // the braces; printed after them they could become the next item's doc.
        if fields.fields.is_empty() && !self.has_comments(0, fields.span.end) {
            self.out.push_str(&format!("{}{header} {{}}", pad(indent)));
            self.trailing(end);
            self.newline();
            return;
        }
        if one_line {
            let f = &fields.fields[0];
            if let Some(v) = self.inline_value(&f.value) {
                let line = format!("{}{header} {{ {}: {v} }}", pad(indent), f.name.name);
                if line.len() <= MAX_WIDTH {
                    self.out.push_str(&line);
                    self.trailing(end);
                    self.newline();
                    return;
                }
            }
        }
        self.out.push_str(&format!("{}{header} {{", pad(indent)));
        self.trailing(fields.span.start + 1);
        self.newline();
        for f in &fields.fields {
            self.leading(f.span.start, indent + 2);
            self.field(f, indent + 2);
        }
        self.leading(fields.span.end.saturating_sub(1), indent + 2);
        self.out.push_str(&format!("{}}}", pad(indent)));
        self.trailing(end);
        self.newline();
    }

    fn field(&mut self, f: &Field, indent: usize) {
        match &f.value {
            Value::Object(obj) => {
                let inline = self.inline_object(obj).filter(|s| {
                    indent + f.name.name.len() + 2 + s.len() <= MAX_WIDTH
                        && !self.has_comments(obj.span.start, obj.span.end)
                });
                match inline {
                    Some(s) => {
                        self.out
                            .push_str(&format!("{}{}: {s}", pad(indent), f.name.name));
                        self.trailing(f.span.end);
                        self.newline();
                    }
                    None => {
                        let header = format!("{}:", f.name.name);
                        self.fields_block(&header, obj, indent, f.span.end, false);
                    }
                }
            }
            Value::Expr(e) => {
                if let ExprKind::List(items) = &e.kind {
                    let texts: Vec<String> = items.iter().map(expr).collect();
                    let spans: Vec<(usize, usize)> =
                        items.iter().map(|i| (i.span.start, i.span.end)).collect();
                    let prefix = format!("{}: ", f.name.name);
                    self.list(
                        &format!("{}{prefix}", pad(indent)),
                        &texts,
                        &spans,
                        e.span,
                        indent,
                    );
                } else {
                    self.out
                        .push_str(&format!("{}{}: {}", pad(indent), f.name.name, expr(e)));
                }
                self.trailing(f.span.end);
                self.newline();
            }
        }
    }

    /// `prefix[a, b]`, or one item per line when too long or commented.
    fn list(
        &mut self,
        prefix: &str,
        items: &[String],
        spans: &[(usize, usize)],
        list_span: rpol_diag::Span,
        indent: usize,
    ) {
        let one = format!("{prefix}[{}]", items.join(", "));
        if one.len() <= MAX_WIDTH && !self.has_comments(list_span.start, list_span.end) {
            self.out.push_str(&one);
            return;
        }
        self.out.push_str(&format!("{prefix}["));
        self.trailing(list_span.start + 1);
        self.newline();
        for (text, (s, e)) in items.iter().zip(spans) {
            self.leading(*s, indent + 2);
            self.out.push_str(&format!("{}{text},", pad(indent + 2)));
            self.trailing(*e);
            self.newline();
        }
        self.leading(list_span.end.saturating_sub(1), indent + 2);
        self.out.push_str(&format!("{}]", pad(indent)));
    }

    fn inline_value(&self, v: &Value) -> Option<String> {
        match v {
            Value::Expr(e) => Some(expr(e)),
            Value::Object(o) => self.inline_object(o),
        }
    }

    fn inline_object(&self, o: &Fields) -> Option<String> {
        if o.fields.is_empty() {
            return Some("{}".into());
        }
        let parts: Option<Vec<String>> = o
            .fields
            .iter()
            .map(|f| match &f.value {
                Value::Expr(e) => Some(format!("{}: {}", f.name.name, expr(e))),
                Value::Object(_) => None,
            })
            .collect();
        Some(format!("{{ {} }}", parts?.join(", ")))
    }

    fn resolve(&mut self, target: &str, arms: &[Arm], item: &Item) {
        self.out.push_str(&format!("resolve {target} {{"));
        self.trailing(item.keyword.end);
        self.newline();
        let conds: Vec<String> = arms
            .iter()
            .map(|a| a.condition.as_ref().map_or_else(String::new, expr))
            .collect();
        let width = arms
            .iter()
            .zip(&conds)
            .filter(|(a, _)| a.condition.is_some())
            .map(|(_, c)| c.len() + 5)
            .max()
            .unwrap_or(4);
        let longest_mode = arms.iter().map(|a| a.mode.name.len()).max().unwrap_or(0);
        let align = 2 + width + 4 + longest_mode <= MAX_WIDTH;
        for (arm, cond) in arms.iter().zip(&conds) {
            self.leading(arm.span.start, 2);
            let head = if arm.condition.is_some() {
                format!("when {cond}")
            } else {
                "else".to_string()
            };
            let head = if align {
                format!("{head:<width$}")
            } else {
                head
            };
            self.out.push_str(&format!("  {head} => {}", arm.mode.name));
            self.trailing(arm.span.end);
            self.newline();
        }
        self.leading(item.span.end.saturating_sub(1), 2);
        self.out.push('}');
        self.trailing(item.span.end);
        self.newline();
    }

    fn forbid(&mut self, f: &Forbid, item: &Item) {
        let mut line = format!("forbid {}", f.kind.keyword());
        let mut end = f.kind_span.end;
        if let Some(t) = &f.targets {
            line.push(' ');
            line.push_str(&targets(t));
            end = t.span().end;
        }
        if let Some(c) = &f.condition {
            line.push_str(" when ");
            line.push_str(&expr(c));
            end = c.span.end;
        }
        let mut interior = self.take_interior(end);
        self.out.push_str(&line);
        if interior.is_empty() {
            self.trailing(end);
        } else if let Some(c) = self.comments.get(self.next)
            && self.line_of(c.span.start) == self.line_of(end)
        {
            // Comments keep their order: the trailing one goes after them.
            interior.push(c.clone());
            self.next += 1;
        }
        self.newline();
        // Indented like the `because` line when one follows, so that the
        // second pass (which sees them as its leading comments) agrees.
        self.own_lines(&interior, if f.because.is_some() { 2 } else { 0 });
        if let Some(b) = &f.because {
            self.leading(b.span.start, 2);
            self.out.push_str(&format!("  because {}", quote(&b.value)));
            self.trailing(b.span.end.max(item.span.end));
            self.newline();
        }
    }

    fn test(&mut self, t: &Test, item: &Item) {
        self.out
            .push_str(&format!("test {} {{", quote(&t.name.value)));
        self.trailing(t.name.span.end);
        self.newline();
        enum Part<'b> {
            Given(&'b Fields),
            Expect(&'b Expect),
        }
        let mut parts: Vec<(usize, Part<'_>)> = t
            .given
            .iter()
            .map(|g| (g.span.start, Part::Given(g)))
            .collect();
        parts.extend(t.expects.iter().map(|e| (e.span.start, Part::Expect(e))));
        parts.sort_by_key(|(s, _)| *s);
        for (start, part) in parts {
            self.leading(start, 2);
            match part {
                Part::Given(g) => self.fields_block("given", g, 2, g.span.end, false),
                Part::Expect(e) => match (expect(&e.kind), &e.kind) {
                    (None, ExpectKind::CacheScope(f)) => {
                        let header = "expect cache_scope";
                        let inline = self.inline_object(f).filter(|s| {
                            2 + header.len() + 1 + s.len() <= MAX_WIDTH
                                && !self.has_comments(f.span.start, f.span.end)
                        });
                        match inline {
                            Some(s) => {
                                self.out.push_str(&format!("  {header} {s}"));
                                self.trailing(e.span.end);
                                self.newline();
                            }
                            None => self.fields_block(header, f, 2, e.span.end, false),
                        }
                    }
                    (line, _) => {
                        let line = line.unwrap_or_default();
                        self.out.push_str(&format!("  expect {line}"));
                        self.trailing(e.span.end);
                        self.newline();
                    }
                },
            }
        }
        self.leading(item.span.end.saturating_sub(1), 2);
        self.out.push('}');
        self.trailing(item.span.end);
        self.newline();
    }
}

fn targets(t: &Targets) -> String {
    match t {
        Targets::One(i) => i.name.clone(),
        Targets::List(v, _) => format!(
            "[{}]",
            v.iter()
                .map(|i| i.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn outcome(o: Outcome) -> &'static str {
    match o {
        Outcome::Allowed => "allowed",
        Outcome::Denied => "denied",
    }
}

/// One `expect` statement on one line; `None` for `cache_scope`, whose
/// components are a block.
fn expect(k: &ExpectKind) -> Option<String> {
    let code = |c: &Option<rpol_syntax::ast::Ident>| {
        c.as_ref()
            .map_or_else(String::new, |c| format!(" {}", c.name))
    };
    Some(match k {
        ExpectKind::Mode(m) => format!("mode == {}", m.name),
        ExpectKind::Route(None) => "route == none".into(),
        ExpectKind::Route(Some(r)) => format!("route == {}", r.name),
        ExpectKind::Source {
            targets: t,
            outcome: o,
            code: c,
            ..
        } => format!("source {} {}{}", targets(t), outcome(*o), code(c)),
        ExpectKind::Feature {
            targets: t,
            outcome: o,
            code: c,
            ..
        } => format!("feature {} {}{}", targets(t), outcome(*o), code(c)),
        ExpectKind::ReasonShows { codes: c, reason } => {
            format!("reason {} shows {}", reason_codes(c), reason.name)
        }
        ExpectKind::ReasonSuppressed { codes: c, deny } => {
            format!("reason {} suppressed{}", reason_codes(c), code(deny))
        }
        ExpectKind::Retention { kind, duration } => {
            format!("retention {} {}", kind.name, expr(duration))
        }
        ExpectKind::Debug {
            role,
            sees,
            targets: t,
            ..
        } => format!(
            "debug {} {} {}",
            role.name,
            if *sees { "sees" } else { "hides" },
            targets(t)
        ),
        // Printed by the caller: its braces may hold comments.
        ExpectKind::CacheScope(_) => return None,
    })
}

fn reason_codes(c: &ReasonCodes) -> String {
    match c {
        ReasonCodes::One(s) => quote(&s.value),
        ReasonCodes::List(v, _) => format!(
            "[{}]",
            v.iter()
                .map(|s| quote(&s.value))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// One expression on one line; parentheses are kept as written.
pub fn expr(e: &Expr) -> String {
    let join = |xs: &[Expr], sep: &str| xs.iter().map(expr).collect::<Vec<_>>().join(sep);
    match &e.kind {
        ExprKind::Str(s) => quote(s),
        ExprKind::Int(i) => i.to_string(),
        ExprKind::Duration { value, unit } => format!("{value}{}", unit.suffix()),
        ExprKind::Bool(b) => b.to_string(),
        ExprKind::List(xs) => format!("[{}]", join(xs, ", ")),
        ExprKind::Path(segs) => segs
            .iter()
            .map(|s| s.name.as_str())
            .collect::<Vec<_>>()
            .join("."),
        ExprKind::Call { name, args } => format!("{}({})", name.name, join(args, ", ")),
        ExprKind::Not(x) => format!("not {}", expr(x)),
        ExprKind::And(xs) => join(xs, " and "),
        ExprKind::Or(xs) => join(xs, " or "),
        ExprKind::Compare { op, lhs, rhs } => {
            format!("{} {} {}", expr(lhs), op.as_str(), expr(rhs))
        }
        ExprKind::In { negated, lhs, rhs } => format!(
            "{} {}in {}",
            expr(lhs),
            if *negated { "not " } else { "" },
            expr(rhs)
        ),
        ExprKind::Paren(x) => format!("({})", expr(x)),
    }
}

/// A string literal with the escapes of docs/reference.md (Lexical structure).
pub fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
