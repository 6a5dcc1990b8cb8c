//! The text and URL rules every input field shares. A "character" is a Unicode scalar value
//! (what `str::chars` yields) in every limit and every message: one definition for product
//! names, address lines and URLs alike.

/// The longest URL accepted anywhere (product images, webhook receivers), in characters.
pub const MAX_URL: usize = 2_048;

/// Whether `c` may not appear in a one-line text field: a control character (CR, LF, NUL, tab,
/// NEL, ...), a Unicode line or paragraph separator, or a bidirectional override or isolate
/// (which reorders what a reader sees). Such a character could start a line of its own, or
/// disguise one, where the value is printed (an order e-mail, a label).
pub fn is_forbidden_in_text(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Trimmed one-line text of `min..=max` characters, without control characters, line
/// separators or bidirectional controls ([`is_forbidden_in_text`]).
pub(crate) fn text(input: &str, min: usize, max: usize) -> Result<String, String> {
    if input.chars().any(is_forbidden_in_text) {
        return Err("must not contain control characters or line breaks".into());
    }
    length(input, min, max)
}

/// Trimmed text of `min..=max` characters that may span lines (`\n`, `\r\n` and tabs), but
/// holds no other control character.
pub(crate) fn multiline_text(input: &str, min: usize, max: usize) -> Result<String, String> {
    if input.chars().any(|c| !matches!(c, '\n' | '\r' | '\t') && is_forbidden_in_text(c)) {
        return Err("must not contain control characters other than line breaks and tabs".into());
    }
    length(input, min, max)
}

fn length(input: &str, min: usize, max: usize) -> Result<String, String> {
    let trimmed = input.trim();
    let length = trimmed.chars().count();
    if length < min || length > max {
        return Err(if min == 0 {
            format!("must be at most {max} characters")
        } else {
            format!("must be {min} to {max} characters")
        });
    }
    Ok(trimmed.to_owned())
}

/// A URL no longer than [`MAX_URL`] characters.
pub(crate) fn url_length(input: &str) -> Result<(), String> {
    if input.chars().count() > MAX_URL {
        return Err(format!("must be at most {MAX_URL} characters"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_count_characters_not_bytes() {
        // 100 two-byte characters are 100 characters (200 bytes): within a 100 limit.
        let accented = "é".repeat(100);
        assert_eq!(text(&accented, 1, 100).as_deref(), Ok(accented.as_str()));
        assert!(text(&"é".repeat(101), 1, 100).is_err());
        // The same rule for URLs.
        let path = "é".repeat(MAX_URL - "https://a.example/".chars().count());
        assert!(url_length(&format!("https://a.example/{path}")).is_ok());
        assert!(url_length(&format!("https://a.example/{path}é")).is_err());
    }

    #[test]
    fn one_line_text_refuses_line_breaks_separators_and_bidi_controls() {
        for bad in ["a\nb", "a\rb", "a\u{2028}b", "a\u{202E}b", "a\u{2067}b", "a\0b", "a\tb"] {
            assert!(text(bad, 1, 10).is_err(), "{bad:?}");
        }
        assert_eq!(text("  Mug  ", 1, 10).as_deref(), Ok("Mug"), "trimmed");
        assert!(multiline_text("line one\r\nline two\tend", 0, 100).is_ok());
        assert!(multiline_text("a\u{202E}b", 0, 100).is_err());
        assert_eq!(length("", 0, 5).as_deref(), Ok(""));
        assert_eq!(length("", 1, 5), Err("must be 1 to 5 characters".into()));
        assert_eq!(length("abcdef", 0, 5), Err("must be at most 5 characters".into()));
    }
}
