//! Shipping addresses: a customer's address book (at most [`MAX_ADDRESSES`], one default) and
//! the snapshot an order keeps of the address it ships to.

use serde::{Deserialize, Serialize};

use super::{AddressId, FieldErrors, Timestamp, validate::text};

/// How many addresses one account may keep.
pub const MAX_ADDRESSES: usize = 10;
/// The longest name, street line, city, region or phone number, in characters.
pub(super) const MAX_TEXT: usize = 100;
/// The longest postal code, in characters.
pub(super) const MAX_POSTAL_CODE: usize = 16;

/// Where to ship: what an order keeps, unchanged whatever happens to the address book later.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostalAddress {
    /// The recipient.
    pub full_name: String,
    /// Street and number.
    pub line1: String,
    /// Flat, floor, building.
    pub line2: Option<String>,
    /// City.
    pub city: String,
    /// State, province or county.
    pub region: Option<String>,
    /// Postal code.
    pub postal_code: String,
    /// ISO 3166-1 alpha-2 country code, upper-case.
    pub country: String,
    /// A phone number for the carrier.
    pub phone: Option<String>,
}

/// An address in a customer's address book.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    /// The id.
    pub id: AddressId,
    /// The address.
    #[serde(flatten)]
    pub postal: PostalAddress,
    /// Whether checkout uses it when none is chosen.
    pub is_default: bool,
    /// When it was added (UTC).
    pub created_at: Timestamp,
    /// When it last changed (UTC).
    pub updated_at: Timestamp,
}

/// An address as a client sends it: every field optional, so one type serves creation (where
/// the required ones are checked) and partial updates. `null` clears an optional field.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddressInput {
    /// The recipient (1–100 characters).
    pub full_name: Option<String>,
    /// Street and number (1–100).
    pub line1: Option<String>,
    /// Flat, floor, building (1–100), or null.
    #[serde(default, with = "clearable")]
    pub line2: Option<Option<String>>,
    /// City (1–100).
    pub city: Option<String>,
    /// Region (1–100), or null.
    #[serde(default, with = "clearable")]
    pub region: Option<Option<String>>,
    /// Postal code (1–16).
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-2 code, any case.
    pub country: Option<String>,
    /// Phone (1–100), or null.
    #[serde(default, with = "clearable")]
    pub phone: Option<Option<String>>,
    /// Make it the default.
    pub is_default: Option<bool>,
}

/// `Option<Option<T>>` from JSON: absent → `None`, `null` → `Some(None)`.
mod clearable {
    use serde::{Deserialize, Deserializer};

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Option<String>>, D::Error> {
        Option::<String>::deserialize(deserializer).map(Some)
    }
}

/// Why an address-book change is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    /// Invalid fields.
    #[error(transparent)]
    Validation(#[from] FieldErrors),
    /// The book is full.
    #[error("at most {MAX_ADDRESSES} addresses")]
    TooMany,
    /// No such address in this book.
    #[error("address not found")]
    NotFound,
}

/// An ISO 3166-1 alpha-2 code: two ASCII letters, upper-cased. (Whether the code is assigned
/// is left to the carrier: the list changes, and a wrong but well-formed code is the
/// customer's typo, not an attack.)
fn country(input: &str) -> Result<String, &'static str> {
    let code = input.trim();
    if code.len() == 2 && code.bytes().all(|b| b.is_ascii_alphabetic()) {
        Ok(code.to_ascii_uppercase())
    } else {
        Err("must be an ISO 3166-1 alpha-2 country code")
    }
}

/// One optional field: absent keeps `current`, null clears it, text is checked.
fn optional(
    field: &str,
    input: Option<Option<String>>,
    current: Option<String>,
    max: usize,
    errors: &mut FieldErrors,
) -> Option<String> {
    match input {
        None => current,
        Some(None) => None,
        Some(Some(value)) => errors.check(field, text(&value, 1, max)),
    }
}

/// One required field: absent keeps `current` (an error when there is none).
fn required(
    field: &str,
    input: Option<String>,
    current: Option<String>,
    check: impl FnOnce(&str) -> Result<String, String>,
    errors: &mut FieldErrors,
) -> String {
    match (input, current) {
        (Some(value), _) => errors.check(field, check(&value)).unwrap_or_default(),
        (None, Some(current)) => current,
        (None, None) => {
            errors.add(field, "is required");
            String::new()
        }
    }
}

impl PostalAddress {
    /// `input` applied over `current` (none: a new address, whose required fields must all be
    /// given), every problem reported at once.
    fn merge(input: AddressInput, current: Option<&PostalAddress>) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::new();
        let field = |f: fn(&PostalAddress) -> &String| current.map(|c| f(c).clone());
        let kept = |f: fn(&PostalAddress) -> &Option<String>| current.and_then(|c| f(c).clone());
        let long = |value: &str| text(value, 1, MAX_TEXT);
        let merged = PostalAddress {
            full_name: required(
                "full_name",
                input.full_name,
                field(|c| &c.full_name),
                long,
                &mut errors,
            ),
            line1: required("line1", input.line1, field(|c| &c.line1), long, &mut errors),
            line2: optional("line2", input.line2, kept(|c| &c.line2), MAX_TEXT, &mut errors),
            city: required("city", input.city, field(|c| &c.city), long, &mut errors),
            region: optional("region", input.region, kept(|c| &c.region), MAX_TEXT, &mut errors),
            postal_code: required(
                "postal_code",
                input.postal_code,
                field(|c| &c.postal_code),
                |v| text(v, 1, MAX_POSTAL_CODE),
                &mut errors,
            ),
            country: required(
                "country",
                input.country,
                field(|c| &c.country),
                |v| country(v).map_err(str::to_owned),
                &mut errors,
            ),
            phone: optional(
                "phone",
                input.phone,
                current.and_then(|c| c.phone.clone()),
                MAX_TEXT,
                &mut errors,
            ),
        };
        errors.into_result(|| merged)
    }
}

/// Adds an address to `book` (the whole book, as stored) at `now`: the first address, or one
/// sent with `is_default: true`, becomes the default.
pub fn add_address(
    book: &mut Vec<Address>,
    input: AddressInput,
    now: Timestamp,
) -> Result<Address, AddressError> {
    let wants_default = input.is_default;
    let postal = PostalAddress::merge(input, None)?;
    if book.len() >= MAX_ADDRESSES {
        return Err(AddressError::TooMany);
    }
    let is_default = book.is_empty() || wants_default == Some(true);
    let address =
        Address { id: AddressId::new(), postal, is_default, created_at: now, updated_at: now };
    if is_default {
        book.iter_mut().for_each(|a| a.is_default = false);
    }
    book.push(address.clone());
    Ok(address)
}

/// Applies a partial update to the address `id` of `book`. `is_default: true` moves the default
/// here; `false` on the default leaves the book without one.
pub fn update_address(
    book: &mut [Address],
    id: AddressId,
    input: AddressInput,
    now: Timestamp,
) -> Result<Address, AddressError> {
    let at = book.iter().position(|a| a.id == id).ok_or(AddressError::NotFound)?;
    let wants_default = input.is_default;
    let postal = PostalAddress::merge(input, Some(&book[at].postal))?;
    if wants_default == Some(true) {
        book.iter_mut().for_each(|a| a.is_default = false);
    }
    let address = &mut book[at];
    address.postal = postal;
    if let Some(is_default) = wants_default {
        address.is_default = is_default;
    }
    address.updated_at = now;
    Ok(address.clone())
}

/// Removes the address `id` from `book`. When it was the default, the oldest remaining address
/// becomes the default, so a customer with addresses always has one.
pub fn remove_address(book: &mut Vec<Address>, id: AddressId) -> Result<Address, AddressError> {
    let at = book.iter().position(|a| a.id == id).ok_or(AddressError::NotFound)?;
    let removed = book.remove(at);
    if removed.is_default
        && let Some(first) = book.first_mut()
    {
        first.is_default = true;
    }
    Ok(removed)
}

/// The address an order ships to: the one chosen (it must be in `book`), else the default,
/// else none.
pub fn shipping_address(
    book: &[Address],
    chosen: Option<AddressId>,
) -> Result<Option<PostalAddress>, AddressError> {
    match chosen {
        Some(id) => book
            .iter()
            .find(|a| a.id == id)
            .map(|a| Some(a.postal.clone()))
            .ok_or(AddressError::NotFound),
        None => Ok(book.iter().find(|a| a.is_default).map(|a| a.postal.clone())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(value: serde_json::Value) -> AddressInput {
        serde_json::from_value(value).unwrap()
    }

    fn home() -> AddressInput {
        input(serde_json::json!({
            "full_name": " Ada Lovelace ", "line1": "12 St James's Square", "city": "London",
            "postal_code": "SW1Y 4JH", "country": "gb"
        }))
    }

    #[test]
    fn a_new_address_is_trimmed_upper_cases_its_country_and_the_first_is_the_default() {
        let mut book = Vec::new();
        let now = Timestamp::now();
        let first = add_address(&mut book, home(), now).unwrap();
        assert_eq!(first.postal.full_name, "Ada Lovelace");
        assert_eq!(first.postal.country, "GB");
        assert!(first.is_default);
        let second = add_address(&mut book, home(), now).unwrap();
        assert!(!second.is_default);
        let third =
            add_address(&mut book, input(serde_json::json!({"is_default": true, "full_name": "B", "line1": "1", "city": "Paris", "postal_code": "75001", "country": "FR"})), now)
                .unwrap();
        assert!(third.is_default);
        assert_eq!(book.iter().filter(|a| a.is_default).count(), 1);
    }

    #[test]
    fn every_invalid_or_missing_field_is_reported_at_once() {
        let Err(AddressError::Validation(errors)) = add_address(
            &mut Vec::new(),
            input(serde_json::json!({
                "full_name": "", "line1": "x".repeat(101), "postal_code": "12345678901234567",
                "country": "GBR", "phone": ""
            })),
            Timestamp::now(),
        ) else {
            panic!("expected validation errors");
        };
        for field in ["full_name", "line1", "city", "postal_code", "country", "phone"] {
            assert!(errors.get(field).is_some(), "{field}: {errors:?}");
        }
        assert!(errors.get("line2").is_none());
        assert!(country("1A").is_err());
        assert!(country("é").is_err());
    }

    #[test]
    fn the_book_holds_at_most_ten() {
        let mut book = Vec::new();
        for _ in 0..MAX_ADDRESSES {
            add_address(&mut book, home(), Timestamp::now()).unwrap();
        }
        assert_eq!(add_address(&mut book, home(), Timestamp::now()), Err(AddressError::TooMany));
        assert_eq!(book.len(), MAX_ADDRESSES);
    }

    #[test]
    fn updates_are_partial_clear_optional_fields_with_null_and_move_the_default() {
        let mut book = Vec::new();
        let now = Timestamp::now();
        let first = add_address(&mut book, home(), now).unwrap();
        let with_phone = input(
            serde_json::json!({"full_name": "C", "line1": "2", "city": "Oslo", "postal_code": "0150", "country": "no", "phone": "+47 1234"}),
        );
        let second = add_address(&mut book, with_phone, now).unwrap();
        let updated = update_address(
            &mut book,
            second.id,
            input(serde_json::json!({"city": "Bergen", "phone": null, "is_default": true})),
            now,
        )
        .unwrap();
        assert_eq!(updated.postal.city, "Bergen");
        assert_eq!(updated.postal.phone, None);
        assert_eq!(updated.postal.line1, "2");
        assert!(updated.is_default);
        assert!(!book.iter().find(|a| a.id == first.id).unwrap().is_default);
        let bad =
            update_address(&mut book, first.id, input(serde_json::json!({"country": "x"})), now);
        assert!(matches!(bad, Err(AddressError::Validation(_))));
        assert_eq!(book[0].postal.country, "GB", "a refused update changes nothing");
        assert_eq!(
            update_address(&mut book, AddressId::new(), AddressInput::default(), now),
            Err(AddressError::NotFound)
        );
    }

    #[test]
    fn removing_the_default_promotes_the_oldest_and_shipping_follows_the_book() {
        let mut book = Vec::new();
        let now = Timestamp::now();
        let first = add_address(&mut book, home(), now).unwrap();
        let second = add_address(&mut book, home(), now).unwrap();
        assert_eq!(shipping_address(&book, None).unwrap(), Some(first.postal.clone()));
        assert_eq!(shipping_address(&book, Some(second.id)).unwrap(), Some(second.postal.clone()));
        assert_eq!(shipping_address(&book, Some(AddressId::new())), Err(AddressError::NotFound));
        remove_address(&mut book, first.id).unwrap();
        assert!(book[0].is_default);
        remove_address(&mut book, second.id).unwrap();
        assert_eq!(shipping_address(&book, None).unwrap(), None);
        assert_eq!(remove_address(&mut book, second.id), Err(AddressError::NotFound));
    }

    #[test]
    fn unknown_fields_are_refused() {
        assert!(
            serde_json::from_value::<AddressInput>(serde_json::json!({"street": "x"})).is_err()
        );
    }
}
