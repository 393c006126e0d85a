//! The framing in front of the protocol: every input, however broken, is
//! split into bodies, refusals and the end, in bounded memory.

use proptest::prelude::*;
use rpol_lsp::MAX_MESSAGE;
use rpol_lsp::transport::{Frame, Frames};

fn frames(input: &[u8]) -> Vec<Frame> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let mut f = Frames::new(input);
        let mut out = Vec::new();
        loop {
            let next = f.next().await;
            let end = next == Frame::Eof;
            out.push(next);
            if end {
                return out;
            }
        }
    })
}

fn frame(body: &str) -> String {
    format!("Content-Length: {}\r\n\r\n{body}", body.len())
}

fn body(s: &str) -> Frame {
    Frame::Body(s.as_bytes().to_vec())
}

fn is_bad(f: &Frame) -> bool {
    matches!(f, Frame::BadHeader(_))
}

#[test]
fn well_framed_messages_are_split_exactly() {
    let input = format!(
        "{}{}content-length: 2\r\nContent-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n{{}}",
        frame(r#"{"a":1}"#),
        frame("")
    );
    assert_eq!(
        frames(input.as_bytes()),
        [body(r#"{"a":1}"#), body(""), body("{}"), Frame::Eof]
    );
}

#[test]
fn a_bad_header_is_skipped_to_the_next_content_length() {
    for bad in [
        "Content-Type: x\r\n\r\n{\"body\":1}",
        "Content-Length: 1e3\r\n\r\n{}",
        "Content-Length: -5\r\n\r\n",
        "Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}",
        "garbage without a colon\r\n",
        "\u{ff}\u{fe}\r\n\r\n",
    ] {
        let input = format!("{bad}{}", frame("{}"));
        let out = frames(input.as_bytes());
        assert!(is_bad(&out[0]), "{bad:?}: {out:?}");
        assert_eq!(out[1..], [body("{}"), Frame::Eof], "{bad:?}");
    }
    // A header line longer than any real one, with no newline for 1 MiB.
    let input = format!("{}\r\n\r\n{}", "x".repeat(1 << 20), frame("{}"));
    let out = frames(input.as_bytes());
    assert!(is_bad(&out[0]));
    assert_eq!(out[1..], [body("{}"), Frame::Eof]);
}

#[test]
fn an_oversized_body_is_refused_then_skipped() {
    let n = MAX_MESSAGE + 1;
    let mut input = format!("Content-Length: {n}\r\n\r\n").into_bytes();
    input.extend(std::iter::repeat_n(b'x', usize::try_from(n).unwrap()));
    input.extend(frame("{}").bytes());
    assert_eq!(frames(&input), [Frame::TooLarge(n), body("{}"), Frame::Eof]);
    // Declared but never sent: refused, then the end.
    let input = b"Content-Length: 3000000000\r\n\r\n{}";
    assert_eq!(frames(input), [Frame::TooLarge(3_000_000_000), Frame::Eof]);
}

#[test]
fn a_truncated_body_is_the_end() {
    assert_eq!(frames(b"Content-Length: 10\r\n\r\n{}"), [Frame::Eof]);
    assert_eq!(frames(b"Content-Length: 10\r\n"), [Frame::Eof]);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Any bytes end (no hang), and a well-framed message after a newline
    /// that follows them is still found.
    #[test]
    fn any_input_ends_and_the_next_message_is_found(
        junk in proptest::collection::vec(any::<u8>(), 0..512)
    ) {
        let mut input = junk.clone();
        input.extend(b"\r\n\r\n");
        input.extend(frame(r#"{"jsonrpc":"2.0","method":"exit"}"#).bytes());
        let out = frames(&input);
        prop_assert_eq!(out.last(), Some(&Frame::Eof));
        for f in &out {
            if let Frame::Body(b) = f {
                prop_assert!(b.len() as u64 <= MAX_MESSAGE);
            }
        }
        // Unless the junk itself declared a length that swallows what follows.
        let lower = String::from_utf8_lossy(&junk).to_ascii_lowercase();
        if !lower.contains("content-length") {
            prop_assert!(
                out.contains(&body(r#"{"jsonrpc":"2.0","method":"exit"}"#)),
                "{:?}", out
            );
        }
    }
}
