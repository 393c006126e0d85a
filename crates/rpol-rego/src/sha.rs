//! SHA-256 in Rego, for the cache scope's bitmap hash (docs/reference.md, The decision, step by step).
//!
//! Rego strings are UTF-8, so `crypto.sha256` cannot hash arbitrary bytes.
//! Rego has no loops or recursion either; but the bitmap's length is fixed
//! for a given policy, so the exporter unrolls the compression function once
//! (as a Rego function over 16 words) and chains it once per block.

use std::fmt::Write;

const K: [u32; 64] = [
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
];

const H0: [u32; 8] = [
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
];

// The SHA-256 functions, inlined as Rego terms: regorus and OPA call
// built-ins much faster than user functions, and the operands are plain
// variables, so the repetition costs nothing at evaluation.
fn rotr(x: &str, n: u32) -> String {
    format!(
        "bits.or(bits.rsh({x}, {n}), bits.and(bits.lsh({x}, {}), 4294967295))",
        32 - n
    )
}

fn xor3(a: &str, b: &str, c: &str) -> String {
    format!("bits.xor(bits.xor({a}, {b}), {c})")
}

fn bsig0(x: &str) -> String {
    xor3(&rotr(x, 2), &rotr(x, 13), &rotr(x, 22))
}

fn bsig1(x: &str) -> String {
    xor3(&rotr(x, 6), &rotr(x, 11), &rotr(x, 25))
}

fn ssig0(x: &str) -> String {
    xor3(&rotr(x, 7), &rotr(x, 18), &format!("bits.rsh({x}, 3)"))
}

fn ssig1(x: &str) -> String {
    xor3(&rotr(x, 17), &rotr(x, 19), &format!("bits.rsh({x}, 10)"))
}

fn ch(e: &str, f: &str, g: &str) -> String {
    format!("bits.xor(bits.and({e}, {f}), bits.and(bits.xor({e}, 4294967295), {g}))")
}

fn maj(a: &str, b: &str, c: &str) -> String {
    xor3(
        &format!("bits.and({a}, {b})"),
        &format!("bits.and({a}, {c})"),
        &format!("bits.and({b}, {c})"),
    )
}

/// Rego rules: `sha_hex8(bytes)`, the first 8 hex digits of the SHA-256 of
/// `bytes` (an array of exactly `len` numbers 0..=255).
pub(crate) fn rules(len: usize) -> String {
    let mut out = String::new();
    let bit_len = (len as u64) * 8;
    // Padding: 0x80, zeros up to 56 mod 64, then the 64-bit big-endian length.
    let zeros = (55usize.wrapping_sub(len % 64)) % 64;
    let mut pad: Vec<String> = vec!["128".into()];
    pad.extend(std::iter::repeat_n("0".to_string(), zeros));
    pad.extend(bit_len.to_be_bytes().iter().map(|b| b.to_string()));
    let total = len + pad.len();
    debug_assert_eq!(total % 64, 0);
    let blocks = total / 64;

    out.push_str("# SHA-256, unrolled for this policy's bitmap length.\n");
    let _ = writeln!(out, "sha_pad := [{}]\n", pad.join(", "));
    out.push_str("sha_hex8(bytes) := sprintf(\"%08x\", [h[0]]) if {\n");
    out.push_str("\tm := array.concat(bytes, sha_pad)\n");
    let _ = writeln!(
        out,
        "\tw := [x | some k in numbers.range(0, {}); x := (((m[4 * k] * 16777216) + (m[(4 * k) + 1] * 65536)) + (m[(4 * k) + 2] * 256)) + m[(4 * k) + 3]]",
        total / 4 - 1
    );
    let h0: Vec<String> = H0.iter().map(u32::to_string).collect();
    let _ = writeln!(out, "\th0 := [{}]", h0.join(", "));
    for b in 0..blocks {
        let _ = writeln!(
            out,
            "\th{} := sha_block(h{b}, array.slice(w, {}, {}))",
            b + 1,
            b * 16,
            b * 16 + 16
        );
    }
    let _ = writeln!(out, "\th := h{blocks}");
    out.push_str("}\n\n");

    // One compression. With b = a[i-1], c = a[i-2], d = a[i-3] and likewise
    // f, g, h from e, each round only introduces a new `a` and a new `e`.
    out.push_str("sha_block(h, m) := out if {\n");
    for i in 0..16 {
        let _ = writeln!(out, "\tw{i} := m[{i}]");
    }
    for i in 16..64 {
        let _ = writeln!(
            out,
            "\tw{i} := ((({} + w{}) + {}) + w{}) % 4294967296",
            ssig1(&format!("w{}", i - 2)),
            i - 7,
            ssig0(&format!("w{}", i - 15)),
            i - 16
        );
    }
    let a = |i: i32| {
        if i < 0 {
            format!("am{}", -i)
        } else {
            format!("a{i}")
        }
    };
    let e = |i: i32| {
        if i < 0 {
            format!("em{}", -i)
        } else {
            format!("e{i}")
        }
    };
    for (j, name) in [(0, a(0)), (1, a(-1)), (2, a(-2)), (3, a(-3))] {
        let _ = writeln!(out, "\t{name} := h[{j}]");
    }
    for (j, name) in [(4, e(0)), (5, e(-1)), (6, e(-2)), (7, e(-3))] {
        let _ = writeln!(out, "\t{name} := h[{j}]");
    }
    for (i, k) in K.iter().enumerate() {
        let i = i as i32;
        let _ = writeln!(
            out,
            "\tt{i} := (((({hh} + {s1}) + {ch}) + {k}) + w{i}) % 4294967296",
            hh = e(i - 3),
            s1 = bsig1(&e(i)),
            ch = ch(&e(i), &e(i - 1), &e(i - 2)),
        );
        let _ = writeln!(
            out,
            "\t{} := (({} + t{i}) % 4294967296)",
            e(i + 1),
            a(i - 3)
        );
        let _ = writeln!(
            out,
            "\t{} := ((t{i} + {s0}) + {maj}) % 4294967296",
            a(i + 1),
            s0 = bsig0(&a(i)),
            maj = maj(&a(i), &a(i - 1), &a(i - 2)),
        );
    }
    let _ = writeln!(
        out,
        "\tout := [({} + h[0]) % 4294967296, ({} + h[1]) % 4294967296, ({} + h[2]) % 4294967296, ({} + h[3]) % 4294967296, ({} + h[4]) % 4294967296, ({} + h[5]) % 4294967296, ({} + h[6]) % 4294967296, ({} + h[7]) % 4294967296]",
        a(64),
        a(63),
        a(62),
        a(61),
        e(64),
        e(63),
        e(62),
        e(61)
    );
    out.push_str("}\n");
    out
}
