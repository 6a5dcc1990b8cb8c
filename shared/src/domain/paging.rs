//! Listing parameters: page numbers (compatible, bounded in depth) or cursors (constant cost).

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};

use super::FieldErrors;

/// `per_page` when the client gives none (the original API's default).
pub(super) const DEFAULT_PER_PAGE: usize = 5;
/// `limit` when the client gives none.
pub(super) const DEFAULT_LIMIT: usize = 20;
/// The largest `per_page` and `limit`.
pub(super) const MAX_PAGE_SIZE: usize = 100;
/// Page-number paging reads every product before the page too, so it stops this deep;
/// further pages are reached with a cursor.
pub(super) const MAX_PAGE_DEPTH: usize = 2_000;

/// The raw query parameters of a listing.
#[derive(Debug, Default, Clone, serde::Deserialize)]
pub struct ListParams {
    /// Page number, from 1.
    pub page: Option<String>,
    /// Items per page.
    pub per_page: Option<String>,
    /// The category it is listed under.
    pub category: Option<String>,
    /// Where the previous page ended (opaque).
    pub cursor: Option<String>,
    /// Items per page.
    pub limit: Option<String>,
}

/// How to walk the listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Paging {
    /// `page` (from 1) of `per_page` products.
    /// Page `page` (from 1) of `per_page` products.
    Pages {
        /// From 1.
        page: usize,
        /// Products a page.
        per_page: usize,
    },
    /// `limit` products after the position a cursor names (from the start without one).
    /// `limit` products after the position a cursor names.
    Cursor {
        /// The position to continue after; the start when none.
        after: Option<String>,
        /// Products a page.
        limit: usize,
    },
}

/// A validated listing request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listing {
    /// The category it is listed under.
    pub category: Option<String>,
    /// How to walk the listing.
    pub paging: Paging,
}

impl Listing {
    /// Validates the parameters; mixing page numbers with cursors is an error.
    pub fn parse(params: ListParams) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::new();
        let category = match params.category.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(category) if category.chars().count() > 100 => {
                errors.add("category", "must be at most 100 characters");
                None
            }
            Some(category) => Some(category.to_owned()),
        };
        let cursor_mode = params.cursor.is_some() || params.limit.is_some();
        if cursor_mode && (params.page.is_some() || params.per_page.is_some()) {
            errors.add("page", "use either page/per_page or cursor/limit, not both");
            return Err(errors);
        }
        let paging = if cursor_mode {
            let limit = number(&mut errors, "limit", params.limit, DEFAULT_LIMIT, MAX_PAGE_SIZE);
            let after = params
                .cursor
                .filter(|c| !c.is_empty())
                .and_then(|c| errors.check("cursor", decode_cursor(&c)));
            Paging::Cursor { after, limit }
        } else {
            let page = number(&mut errors, "page", params.page, 1, usize::MAX);
            let per_page =
                number(&mut errors, "per_page", params.per_page, DEFAULT_PER_PAGE, MAX_PAGE_SIZE);
            if page.saturating_mul(per_page) > MAX_PAGE_DEPTH {
                errors.add(
                    "page",
                    format!("pages beyond the first {MAX_PAGE_DEPTH} products are served by cursor (cursor, limit)"),
                );
            }
            Paging::Pages { page, per_page }
        };
        errors.into_result(|| Self { category, paging })
    }
}

/// A whole number from 1 to `max` read from a query parameter (`default` when absent); a
/// bad one is recorded against `field` and `default` returned, so every error is reported.
pub fn number(
    errors: &mut FieldErrors,
    field: &str,
    raw: Option<String>,
    default: usize,
    max: usize,
) -> usize {
    let Some(raw) = raw else { return default };
    match raw.trim().parse::<usize>() {
        Ok(value) if (1..=max).contains(&value) => value,
        _ if max == usize::MAX => {
            errors.add(field, "must be a whole number of at least 1");
            default
        }
        _ => {
            errors.add(field, format!("must be a whole number from 1 to {max}"));
            default
        }
    }
}

/// The opaque form of a listing position.
pub fn encode_cursor(position: &str) -> String {
    URL_SAFE_NO_PAD.encode(position)
}

/// The listing position a cursor names (`<time>#<ULID>`), or why it is not one this API issued.
pub fn decode_cursor(cursor: &str) -> Result<String, &'static str> {
    const PROBLEM: &str = "is not a cursor this API issued";
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| PROBLEM)?;
    let position = String::from_utf8(bytes).map_err(|_| PROBLEM)?;
    // `<RFC 3339 time>#<ULID>`, as the store's sort key.
    let (time, id) = position.split_once('#').ok_or(PROBLEM)?;
    let well_formed =
        super::Timestamp::parse(time).is_ok() && id.parse::<super::ProductId>().is_ok();
    well_formed.then_some(position).ok_or(PROBLEM)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> ListParams {
        let map: std::collections::HashMap<_, _> =
            pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        serde_json::from_value(serde_json::to_value(map).unwrap()).unwrap()
    }

    #[test]
    fn defaults_to_the_first_page_of_five() {
        let listing = Listing::parse(params(&[])).unwrap();
        assert_eq!(
            listing,
            Listing { category: None, paging: Paging::Pages { page: 1, per_page: 5 } }
        );
    }

    #[test]
    fn bad_numbers_and_deep_pages_are_field_errors() {
        for (field, value) in
            [("page", "0"), ("page", "x"), ("per_page", "101"), ("per_page", "-1"), ("limit", "0")]
        {
            let errors = Listing::parse(params(&[(field, value)])).unwrap_err();
            assert!(errors.get(field).is_some(), "{field}={value}");
        }
        assert!(
            Listing::parse(params(&[("page", "401"), ("per_page", "5")]))
                .unwrap_err()
                .get("page")
                .is_some()
        );
        assert!(Listing::parse(params(&[("page", "400"), ("per_page", "5")])).is_ok());
        assert!(
            Listing::parse(params(&[("page", "2"), ("cursor", "")]))
                .unwrap_err()
                .get("page")
                .is_some()
        );
    }

    #[test]
    fn cursors_round_trip_and_forged_ones_are_refused() {
        let position = format!("2026-01-01T00:00:00Z#{}", super::super::ProductId::new());
        let cursor = encode_cursor(&position);
        let listing =
            Listing::parse(params(&[("cursor", &cursor), ("limit", "7"), ("category", " mugs ")]))
                .unwrap();
        assert_eq!(listing.paging, Paging::Cursor { after: Some(position), limit: 7 });
        assert_eq!(listing.category.as_deref(), Some("mugs"));
        for forged in ["!!", "bm90IGEgY3Vyc29y", &encode_cursor("2026-01-01T00:00:00Z#nope")] {
            assert!(
                Listing::parse(params(&[("cursor", forged)])).unwrap_err().get("cursor").is_some(),
                "{forged}"
            );
        }
    }
}
