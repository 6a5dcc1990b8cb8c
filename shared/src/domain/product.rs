//! Products and their variants: what a valid product is, how a partial update applies, and
//! which SKU claims a change adds and removes.

use std::{collections::BTreeSet, fmt};

use serde::{Deserialize, Serialize};

use super::{
    FieldErrors, Money, ProductId, Timestamp,
    validate::{multiline_text, text, url_length},
};

const MAX_NAME: usize = 200;
const MAX_DESCRIPTION: usize = 5_000;
const MAX_CATEGORY: usize = 100;
const MAX_IMAGES: usize = 10;
const MAX_VARIANTS: usize = 50;
const MAX_SKU: usize = 64;
const MAX_STOCK: i64 = 1_000_000_000;

/// A stock-keeping unit: 1–64 characters of `A–Z a–z 0–9 - _ .`, unique across the catalog.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Sku(String);

impl TryFrom<String> for Sku {
    type Error = &'static str;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Sku> for String {
    fn from(sku: Sku) -> String {
        sku.0
    }
}

impl Sku {
    /// Validates a SKU exactly as given (SKUs are case-sensitive codes).
    pub fn parse(input: &str) -> Result<Self, &'static str> {
        if input.is_empty() || input.len() > MAX_SKU {
            return Err("must be 1 to 64 characters");
        }
        let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
        if !input.chars().all(allowed) {
            return Err("may contain only letters, digits, '-', '_' and '.'");
        }
        Ok(Self(input.to_owned()))
    }

    /// The code.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Sku {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One sellable version of a product.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Variant {
    /// The variant's SKU.
    pub sku: Sku,
    /// Units in stock.
    pub stock: u32,
    /// Unit price.
    pub price: Money,
}

/// A product as stored and shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Product {
    /// The id.
    pub id: ProductId,
    /// The name shown to customers.
    pub name: String,
    /// Free text shown with the product.
    pub description: String,
    /// The category it is listed under.
    pub category: String,
    /// Image URLs (http or https).
    pub images: Vec<String>,
    /// The variants, each with its SKU, stock and price.
    pub variants: Vec<Variant>,
    /// When it was created (UTC).
    pub created_at: Timestamp,
    /// When it last changed (UTC).
    pub updated_at: Timestamp,
    /// Bumped by every write; updates and deletes are conditional on it.
    #[serde(skip)]
    pub version: u64,
}

/// The JSON a client sends to create or update a product (every field optional here; which
/// are required depends on the operation).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProductInput {
    /// The name shown to customers.
    pub name: Option<String>,
    /// Free text shown with the product.
    pub description: Option<String>,
    /// The category it is listed under.
    pub category: Option<String>,
    /// Image URLs (http or https).
    pub images: Option<Vec<String>>,
    /// The variants, each with its SKU, stock and price.
    pub variants: Option<Vec<VariantInput>>,
}

/// One variant as a client sends it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VariantInput {
    /// The variant's SKU.
    pub sku: String,
    /// Units in stock (0 to 1,000,000,000); 0 when absent, as in the original API.
    #[serde(default)]
    pub stock: i64,
    /// Unit price.
    pub price: Money,
}

/// A validated, complete product description (what creating one needs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductSpec {
    /// The name shown to customers.
    pub name: String,
    /// Free text shown with the product.
    pub description: String,
    /// The category it is listed under.
    pub category: String,
    /// Image URLs (http or https).
    pub images: Vec<String>,
    /// The variants, each with its SKU, stock and price.
    pub variants: Vec<Variant>,
}

/// A validated partial update: only the fields given change.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProductPatch {
    /// The name shown to customers.
    pub name: Option<String>,
    /// Free text shown with the product.
    pub description: Option<String>,
    /// The category it is listed under.
    pub category: Option<String>,
    /// Image URLs (http or https).
    pub images: Option<Vec<String>>,
    /// The variants, each with its SKU, stock and price.
    pub variants: Option<Vec<Variant>>,
}

impl ProductSpec {
    /// Validates a create request: `name`, `category` and `variants` are required.
    pub fn parse(input: ProductInput) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::new();
        for (field, missing) in [
            ("name", input.name.is_none()),
            ("category", input.category.is_none()),
            ("variants", input.variants.is_none()),
        ] {
            if missing {
                errors.add(field, "is required");
            }
        }
        let patch = ProductPatch::validate(input, &mut errors);
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Self {
            name: patch.name.unwrap_or_default(),
            description: patch.description.unwrap_or_default(),
            category: patch.category.unwrap_or_default(),
            images: patch.images.unwrap_or_default(),
            variants: patch.variants.unwrap_or_default(),
        })
    }
}

impl ProductPatch {
    /// Validates an update request: any subset of the fields, at least one.
    pub fn parse(input: ProductInput) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::new();
        let patch = Self::validate(input, &mut errors);
        if errors.is_empty() && patch == Self::default() {
            errors.add(
                "product",
                "give at least one of name, description, category, images, variants",
            );
        }
        errors.into_result(|| patch)
    }

    fn validate(input: ProductInput, errors: &mut FieldErrors) -> Self {
        let name = input.name.and_then(|name| errors.check("name", text(&name, 1, MAX_NAME)));
        let description = input
            .description
            .and_then(|d| errors.check("description", multiline_text(&d, 0, MAX_DESCRIPTION)));
        let category =
            input.category.and_then(|c| errors.check("category", text(&c, 1, MAX_CATEGORY)));
        let images = input.images.and_then(|images| validate_images(images, errors));
        let variants = input.variants.and_then(|variants| validate_variants(variants, errors));
        Self { name, description, category, images, variants }
    }
}

fn validate_images(images: Vec<String>, errors: &mut FieldErrors) -> Option<Vec<String>> {
    if images.len() > MAX_IMAGES {
        errors.add("images", format!("at most {MAX_IMAGES} images"));
        return None;
    }
    let valid: Vec<_> = images
        .iter()
        .enumerate()
        .filter_map(|(at, url)| errors.check(&format!("images[{at}]"), image_url(url)))
        .collect();
    (valid.len() == images.len()).then_some(valid)
}

/// An absolute `http`/`https` URL with a host.
fn image_url(input: &str) -> Result<String, String> {
    const PROBLEM: &str = "must be an absolute http(s) URL";
    url_length(input)?;
    if input.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(PROBLEM.into());
    }
    let url = url::Url::parse(input).map_err(|_| PROBLEM.to_owned())?;
    let scheme_ok = matches!(url.scheme(), "http" | "https");
    let host_ok = url.host_str().is_some_and(|host| !host.is_empty());
    if scheme_ok && host_ok { Ok(input.to_owned()) } else { Err(PROBLEM.into()) }
}

fn validate_variants(
    variants: Vec<VariantInput>,
    errors: &mut FieldErrors,
) -> Option<Vec<Variant>> {
    if variants.is_empty() || variants.len() > MAX_VARIANTS {
        errors.add("variants", format!("must hold 1 to {MAX_VARIANTS} variants"));
        return None;
    }
    let mut seen = BTreeSet::new();
    let mut valid = Vec::with_capacity(variants.len());
    for (at, input) in variants.into_iter().enumerate() {
        let sku = errors.check(&format!("variants[{at}].sku"), Sku::parse(&input.sku));
        if let Some(sku) = &sku
            && !seen.insert(sku.clone())
        {
            errors.add(format!("variants[{at}].sku"), "appears twice in this product");
        }
        let stock = match u32::try_from(input.stock) {
            Ok(stock) if i64::from(stock) <= MAX_STOCK => Some(stock),
            _ => {
                errors.add(
                    format!("variants[{at}].stock"),
                    format!("must be a whole number from 0 to {MAX_STOCK}"),
                );
                None
            }
        };
        if let (Some(sku), Some(stock)) = (sku, stock) {
            valid.push(Variant { sku, stock, price: input.price });
        }
    }
    Some(valid)
}

/// The SKU claims a write takes and releases.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SkuChanges {
    /// SKUs the change claims.
    pub added: Vec<Sku>,
    /// SKUs the change gives up.
    pub removed: Vec<Sku>,
}

impl Product {
    /// A new product from a validated spec.
    pub fn create(spec: ProductSpec, now: Timestamp) -> Self {
        Self {
            id: ProductId::new(),
            name: spec.name,
            description: spec.description,
            category: spec.category,
            images: spec.images,
            variants: spec.variants,
            created_at: now,
            updated_at: now,
            version: 1,
        }
    }

    /// This product with `patch` applied.
    pub fn apply(&self, patch: ProductPatch, now: Timestamp) -> Self {
        Self {
            id: self.id,
            name: patch.name.unwrap_or_else(|| self.name.clone()),
            description: patch.description.unwrap_or_else(|| self.description.clone()),
            category: patch.category.unwrap_or_else(|| self.category.clone()),
            images: patch.images.unwrap_or_else(|| self.images.clone()),
            variants: patch.variants.unwrap_or_else(|| self.variants.clone()),
            created_at: self.created_at,
            updated_at: now,
            version: self.version + 1,
        }
    }

    fn skus(&self) -> BTreeSet<&Sku> {
        self.variants.iter().map(|v| &v.sku).collect()
    }

    /// The SKUs `next` claims that this product does not, and those it gives up.
    pub fn sku_changes(&self, next: &Product) -> SkuChanges {
        let (before, after) = (self.skus(), next.skus());
        SkuChanges {
            added: after.difference(&before).map(|s| (*s).clone()).collect(),
            removed: before.difference(&after).map(|s| (*s).clone()).collect(),
        }
    }

    /// Refuses an update larger than one atomic write of at most `max_writes` records may
    /// hold: the product, the two category counters (when the category changes) and one per
    /// SKU claimed or released.
    pub fn check_update_size(&self, next: &Product, max_writes: usize) -> Result<(), FieldErrors> {
        let changes = self.sku_changes(next);
        let counter = 2 * usize::from(self.category != next.category);
        let actions = 1 + counter + changes.added.len() + changes.removed.len();
        if actions <= max_writes {
            return Ok(());
        }
        let mut errors = FieldErrors::new();
        errors.add(
            "variants",
            format!(
                "this update adds {} and removes {} SKUs; at most {} SKU changes fit in one update, split it in two",
                changes.added.len(),
                changes.removed.len(),
                max_writes - 1 - counter
            ),
        );
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn input(value: serde_json::Value) -> ProductInput {
        serde_json::from_value(value).unwrap()
    }

    fn valid() -> serde_json::Value {
        json!({
            "name": "  Trail shoe ",
            "category": "shoes",
            "images": ["https://cdn.example.com/a.jpg"],
            "variants": [{"sku": "TS-42", "stock": 3, "price": "89.90"}, {"sku": "TS-43", "stock": 0, "price": 89}]
        })
    }

    fn errors_of(result: Result<ProductSpec, FieldErrors>) -> FieldErrors {
        result.expect_err("invalid")
    }

    #[test]
    fn a_valid_product_is_trimmed_and_defaults_its_description() {
        let spec = ProductSpec::parse(input(valid())).unwrap();
        assert_eq!(spec.name, "Trail shoe");
        assert_eq!(spec.description, "");
        assert_eq!(spec.variants[1].price.to_string(), "89.00");
    }

    #[test]
    fn create_requires_name_category_and_variants() {
        let errors = errors_of(ProductSpec::parse(input(json!({"description": "x"}))));
        for field in ["name", "category", "variants"] {
            assert_eq!(errors.get(field), Some(&["is required".to_owned()][..]), "{field}");
        }
    }

    #[test]
    fn every_field_rule_names_its_field() {
        let long = "x".repeat(201);
        let bad = json!({
            "name": long,
            "description": "d".repeat(5001),
            "category": " ",
            "images": ["ftp://x.example/a.png", "/relative.png", "https://ok.example/b.png"],
            "variants": [
                {"sku": "bad sku", "stock": -1, "price": 1},
                {"sku": "", "stock": 1, "price": 1},
                {"sku": "A", "stock": 1, "price": 1},
                {"sku": "A", "stock": 2_000_000_000_i64, "price": 1}
            ]
        });
        let errors = errors_of(ProductSpec::parse(input(bad)));
        for field in [
            "name",
            "description",
            "category",
            "images[0]",
            "images[1]",
            "variants[0].sku",
            "variants[0].stock",
            "variants[1].sku",
            "variants[3].sku",
            "variants[3].stock",
        ] {
            assert!(errors.get(field).is_some(), "{field}: {errors:?}");
        }
        assert!(errors.get("images[2]").is_none() && errors.get("variants[2].sku").is_none());
    }

    #[test]
    fn counts_are_bounded() {
        let images: Vec<_> = (0..11).map(|i| format!("https://x.example/{i}.png")).collect();
        let errors = errors_of(ProductSpec::parse(input(
            json!({"name": "n", "category": "c", "images": images, "variants": []}),
        )));
        assert!(errors.get("images").is_some() && errors.get("variants").is_some());
        let variants: Vec<_> =
            (0..51).map(|i| json!({"sku": format!("S{i}"), "stock": 1, "price": 1})).collect();
        let errors = errors_of(ProductSpec::parse(input(
            json!({"name": "n", "category": "c", "variants": variants}),
        )));
        assert!(errors.get("variants").is_some());
    }

    #[test]
    fn a_patch_needs_one_field_and_changes_only_those_given() {
        assert!(ProductPatch::parse(input(json!({}))).unwrap_err().get("product").is_some());
        let product =
            Product::create(ProductSpec::parse(input(valid())).unwrap(), Timestamp::now());
        let patch = ProductPatch::parse(input(json!({"name": "Road shoe"}))).unwrap();
        let later = Timestamp::now().plus_seconds(5);
        let updated = product.apply(patch, later);
        assert_eq!(updated.name, "Road shoe");
        assert_eq!(
            (updated.category.as_str(), &updated.variants),
            (product.category.as_str(), &product.variants)
        );
        assert_eq!((updated.created_at, updated.updated_at), (product.created_at, later));
        assert_eq!(updated.version, product.version + 1);
    }

    #[test]
    fn sku_changes_and_the_size_of_an_update() {
        let product =
            Product::create(ProductSpec::parse(input(valid())).unwrap(), Timestamp::now());
        let patch = ProductPatch::parse(input(json!({"variants": [{"sku": "TS-43", "stock": 9, "price": 1}, {"sku": "TS-44", "stock": 1, "price": 1}]}))).unwrap();
        let next = product.apply(patch, Timestamp::now());
        let changes = product.sku_changes(&next);
        assert_eq!(changes.added, [Sku::parse("TS-44").unwrap()]);
        assert_eq!(changes.removed, [Sku::parse("TS-42").unwrap()]);
        assert!(product.check_update_size(&next, 100).is_ok());

        let many = |prefix: &str| -> Vec<_> {
            (0..50)
                .map(|i| json!({"sku": format!("{prefix}{i}"), "stock": 1, "price": 1}))
                .collect()
        };
        let wide = Product::create(
            ProductSpec::parse(input(json!({"name": "n", "category": "c", "variants": many("A")})))
                .unwrap(),
            Timestamp::now(),
        );
        let swap = wide.apply(
            ProductPatch::parse(input(json!({"variants": many("B")}))).unwrap(),
            Timestamp::now(),
        );
        assert!(wide.check_update_size(&swap, 100).unwrap_err().get("variants").is_some());
    }
}
