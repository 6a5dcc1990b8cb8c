//! How customer-facing messages present the shop: its name, the currency its prices are in
//! (written as a customer reads it: `€31.50`), and where a customer sees an order.

use super::{Currency, Money, OrderId};

/// The placeholder of an order's id in [`Branding::order_url_template`].
pub const ORDER_ID_PLACEHOLDER: &str = "{order_id}";

/// The shop as its e-mails name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Branding {
    /// `SHOP_NAME`.
    pub shop_name: String,
    /// `CURRENCY`: the prices' currency (the one payments use).
    pub currency: Currency,
    /// `ORDER_URL_TEMPLATE`: an order's page, `{order_id}` replaced; none without.
    pub order_url_template: Option<String>,
}

impl Default for Branding {
    fn default() -> Self {
        Self {
            shop_name: "Shop".into(),
            currency: "eur".parse().unwrap_or_else(|_| unreachable!("eur has cents")),
            order_url_template: None,
        }
    }
}

impl Branding {
    /// An amount as a customer reads it: the symbol first for the currencies that have one
    /// (`€31.50`, `$8.00`, `£5.00`), the code first otherwise (`CHF 12.00`).
    pub fn money(&self, amount: Money) -> String {
        self.amount(amount.amount())
    }

    /// Any exact amount (a line's total may exceed [`Money::MAX`]), two places.
    pub fn amount(&self, amount: rust_decimal::Decimal) -> String {
        let amount = format!("{:.2}", amount.round_dp(2));
        let symbol = match self.currency.code() {
            "eur" => "€",
            "usd" => "$",
            "gbp" => "£",
            "inr" => "₹",
            "cad" => "CA$",
            "aud" => "A$",
            _ => "",
        };
        match symbol {
            "" => format!("{} {amount}", self.currency.code().to_ascii_uppercase()),
            symbol => format!("{symbol}{amount}"),
        }
    }

    /// The page of order `id`, if the shop has order pages.
    pub fn order_url(&self, id: OrderId) -> Option<String> {
        let template = self.order_url_template.as_ref()?;
        Some(template.replace(ORDER_ID_PLACEHOLDER, &id.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn money(text: &str) -> Money {
        text.parse().expect("money")
    }

    #[test]
    fn amounts_read_as_a_customer_writes_them() {
        let mut branding = Branding::default();
        assert_eq!(branding.money(money("31.5")), "€31.50");
        branding.currency = "USD".parse().expect("usd");
        assert_eq!(branding.money(money("8")), "$8.00");
        branding.currency = "chf".parse().expect("chf");
        assert_eq!(branding.money(money("12.00")), "CHF 12.00");
    }

    #[test]
    fn an_order_link_only_with_a_template() {
        let id: OrderId = "01KAS0ZDQ4K8S5V4J1G8S2ZC3E".parse().expect("id");
        let mut branding = Branding::default();
        assert_eq!(branding.order_url(id), None);
        branding.order_url_template =
            Some("https://shop.example/orders/{order_id}?from=mail".into());
        assert_eq!(
            branding.order_url(id).as_deref(),
            Some("https://shop.example/orders/01KAS0ZDQ4K8S5V4J1G8S2ZC3E?from=mail")
        );
    }
}
