//! The review sheet as GitHub-flavoured Markdown, for a pull-request comment.
//!
//! Every text goes through [`inline`]: outside code spans HTML and Markdown
//! punctuation are escaped (GitHub renders raw HTML in comments), inside them
//! only the table separator `|`.

use std::fmt::Write as _;

use crate::Sheet;
use crate::blocks::{Block, blocks};

/// Text with `code` spans, escaped for a Markdown table cell or paragraph.
pub fn inline(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    let mut inside = false;
    for (i, part) in s.split('`').enumerate() {
        if i > 0 {
            out.push('`');
            inside = !inside;
        }
        for ch in part.chars() {
            match ch {
                '|' => out.push_str("\\|"),
                '\n' | '\r' => out.push(' '),
                _ if inside => out.push(ch),
                '<' => out.push_str("&lt;"),
                '>' => out.push_str("&gt;"),
                '&' => out.push_str("&amp;"),
                '\\' | '*' | '_' | '[' | ']' | '#' | '~' => {
                    out.push('\\');
                    out.push(ch);
                }
                _ => out.push(ch),
            }
        }
    }
    if inside {
        out.push('`');
    }
    out
}

/// The whole sheet.
pub fn render(s: &Sheet) -> String {
    let mut out = String::new();
    for b in blocks(s) {
        match b {
            Block::Heading(level, text) => {
                let _ = writeln!(out, "{} {}\n", "#".repeat(level as usize), inline(&text));
            }
            Block::Para(text) => {
                let _ = writeln!(out, "{}\n", inline(&text));
            }
            Block::Table { head, rows, .. } => {
                let head: Vec<String> = head.iter().map(|h| inline(h)).collect();
                let _ = writeln!(out, "| {} |", head.join(" | "));
                let _ = writeln!(out, "|{}", " --- |".repeat(head.len()));
                for row in rows {
                    let cells: Vec<String> = row.iter().map(|c| inline(&c.text)).collect();
                    let _ = writeln!(out, "| {} |", cells.join(" | "));
                }
                out.push('\n');
            }
            Block::Notes { start, items } => {
                for (i, (what, lines)) in items.iter().enumerate() {
                    let _ = writeln!(out, "{}. {}:", start + i, inline(what));
                    for l in lines {
                        let _ = writeln!(out, "   - {}", inline(l));
                    }
                }
                out.push('\n');
            }
            Block::Bullets(items) => {
                for i in items {
                    let _ = writeln!(out, "- {}", inline(&i));
                }
                out.push('\n');
            }
        }
    }
    out
}
