//! The review sheet as one self-contained HTML file: inline CSS, no script,
//! no network (a Content-Security-Policy forbids both), readable without
//! colour (every verdict also has its symbol and code) and printable.
//!
//! Every text is escaped by [`inline`]; names and texts come from the user's
//! files.

use std::fmt::Write as _;

use crate::Sheet;
use crate::blocks::{Block, Tone, blocks};

/// `&`, `<`, `>`, `"` and `'` as entities, for text and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(ch),
        }
    }
    out
}

/// Text with `code` spans as escaped HTML with `<code>` elements.
pub fn inline(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 16);
    let mut inside = false;
    for (i, part) in s.split('`').enumerate() {
        if i > 0 {
            out.push_str(if inside { "</code>" } else { "<code>" });
            inside = !inside;
        }
        out.push_str(&escape(part));
    }
    if inside {
        out.push_str("</code>");
    }
    out
}

const CSS: &str = "\
body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;color:#1a1a1a;margin:2em auto;max-width:80em;padding:0 1em}
h1{font-size:1.6em}h2{font-size:1.3em;margin-top:1.6em;border-bottom:1px solid #ccc}h3{font-size:1.1em}
table{border-collapse:collapse;margin:.5em 0 1em}
th,td{border:1px solid #bbb;padding:.25em .5em;vertical-align:top;text-align:left}
th{background:#f0f0f0}
code{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.92em;overflow-wrap:break-word}
td.allowed{background:#e3f5e1}td.denied{background:#fbe4e2}td.mixed{background:#fff4d0}td.unreachable{color:#777;background:#f4f4f4}
ol.notes li{margin:.3em 0}
@media print{body{margin:0;max-width:none;font-size:10px}h2{break-after:avoid}
table{break-inside:auto}tr{break-inside:avoid}thead{display:table-header-group}
td.allowed,td.denied,td.mixed,td.unreachable,th{-webkit-print-color-adjust:exact;print-color-adjust:exact}}
";

fn tone_class(t: Tone) -> &'static str {
    match t {
        Tone::Plain => "",
        Tone::Allowed => " class=\"allowed\"",
        Tone::Denied => " class=\"denied\"",
        Tone::Mixed => " class=\"mixed\"",
        Tone::Unreachable => " class=\"unreachable\"",
    }
}

/// The whole sheet as an HTML document.
pub fn render(s: &Sheet) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>Privacy review: {} {}</title>\n<style>\n{CSS}</style>\n</head>\n<body>\n",
        escape(&s.name),
        escape(&s.version)
    );
    for b in blocks(s) {
        match b {
            Block::Heading(level, text) => {
                let _ = writeln!(out, "<h{level}>{}</h{level}>", inline(&text));
            }
            Block::Para(text) => {
                let _ = writeln!(out, "<p>{}</p>", inline(&text));
            }
            Block::Table { class, head, rows } => {
                let _ = write!(out, "<table class=\"{class}\">\n<thead><tr>");
                for h in &head {
                    let _ = write!(out, "<th>{}</th>", inline(h));
                }
                out.push_str("</tr></thead>\n<tbody>\n");
                for row in rows {
                    out.push_str("<tr>");
                    for (i, td) in row.iter().enumerate() {
                        // The first column names the row.
                        let tag = if i == 0 { "th" } else { "td" };
                        let _ = write!(out, "<{tag}{}", tone_class(td.tone));
                        for (k, v) in &td.data {
                            let _ = write!(out, " data-{k}=\"{}\"", escape(v));
                        }
                        let _ = write!(out, ">{}</{tag}>", inline(&td.text));
                    }
                    out.push_str("</tr>\n");
                }
                out.push_str("</tbody>\n</table>\n");
            }
            Block::Notes { start, items } => {
                let _ = writeln!(out, "<ol class=\"notes\" start=\"{start}\">");
                for (what, lines) in items {
                    let _ = write!(out, "<li>{}:<ul>", inline(&what));
                    for l in lines {
                        let _ = write!(out, "<li>{}</li>", inline(&l));
                    }
                    out.push_str("</ul></li>\n");
                }
                out.push_str("</ol>\n");
            }
            Block::Bullets(items) => {
                out.push_str("<ul>\n");
                for i in items {
                    let _ = writeln!(out, "<li>{}</li>", inline(&i));
                }
                out.push_str("</ul>\n");
            }
        }
    }
    out.push_str("</body>\n</html>\n");
    out
}
