//! Order e-mails: what an order event tells the customer, rendered as a subject, a plain-text
//! part and an HTML part (every value HTML-escaped), and assembled into one MIME message
//! (`multipart/alternative`, UTF-8) — the same bytes SES sends and the local server writes to
//! an `.eml` file.

use std::fmt::Write as _;

use crate::domain::{
    Branding, Money, Order, OrderEvent, OrderEventKind, OrderStatus, PostalAddress, Timestamp,
};

/// A rendered e-mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderEmail {
    /// The recipient.
    pub to: String,
    /// The subject line.
    pub subject: String,
    /// The plain-text part.
    pub text: String,
    /// The HTML part.
    pub html: String,
}

/// Escapes text for HTML element content and attribute values.
pub fn escape_html(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            other => escaped.push(other),
        }
    }
    escaped
}

/// A stored value as one line of the e-mail: every character that could break the line or
/// disguise it (controls, line separators, bidirectional controls) becomes a space. Values are
/// checked when written; this holds for values stored before that check, or by another writer.
pub fn one_line(value: &str) -> String {
    value.chars().map(|c| if crate::domain::is_forbidden_in_text(c) { ' ' } else { c }).collect()
}

fn headline(event: &OrderEvent, order: &Order, branding: &Branding) -> (String, String) {
    let cents = |amount| branding.amount(crate::domain::from_minor_units(amount));
    match event.kind {
        OrderEventKind::OrderPlaced => (
            format!("Your order {} has been placed", order.id),
            format!(
                "Thank you for your order {}. We have received it and will ship it soon.",
                order.id
            ),
        ),
        OrderEventKind::StatusChanged { from, to } => {
            let subject = match to {
                OrderStatus::Cancelled => format!("Your order {} has been cancelled", order.id),
                _ => format!("Your order {} is now {}", order.id, to),
            };
            (subject, format!("Your order {} has gone from {from} to {to}.", order.id))
        }
        OrderEventKind::PaymentReceived { amount } => (
            format!("Payment received for your order {}", order.id),
            format!("We have received your payment of {} for order {}.", cents(amount), order.id),
        ),
        OrderEventKind::Refunded { amount } => (
            format!("A refund for your order {}", order.id),
            format!(
                "We have refunded {} of order {}; your bank shows it within a few days.",
                cents(amount),
                order.id
            ),
        ),
        OrderEventKind::Expired => (
            format!("Your order {} has been cancelled", order.id),
            format!(
                "Your order {} was not paid in time, so we have cancelled it. Nothing was charged.",
                order.id
            ),
        ),
    }
}

/// The status the event reports (not the order's status now, which may have moved on since).
fn reported_status(event: &OrderEvent, order: &Order) -> OrderStatus {
    match event.kind {
        OrderEventKind::OrderPlaced => OrderStatus::Pending,
        OrderEventKind::StatusChanged { to, .. } => to,
        OrderEventKind::PaymentReceived { .. } | OrderEventKind::Refunded { .. } => order.status,
        OrderEventKind::Expired => OrderStatus::Cancelled,
    }
}

/// Renders the e-mail `event` sends to `to` about `order`, presented as `branding` says.
pub fn render(event: &OrderEvent, order: &Order, to: &str, branding: &Branding) -> OrderEmail {
    let (subject, intro) = headline(event, order, branding);
    let facts = Facts {
        intro,
        status: reported_status(event, order),
        coupon: order
            .coupon_code
            .as_ref()
            .map(|code| format!(" (coupon {})", code.as_str()))
            .unwrap_or_default(),
        link: branding.order_url(order.id),
        shop: one_line(&branding.shop_name),
    };
    let text = text_part(order, &facts, branding);
    let html = html_part(order, &facts, branding, &subject);
    OrderEmail { to: to.to_owned(), subject, text, html }
}

/// What both parts say besides the order's lines.
struct Facts {
    intro: String,
    status: OrderStatus,
    coupon: String,
    link: Option<String>,
    shop: String,
}

fn text_part(order: &Order, facts: &Facts, branding: &Branding) -> String {
    let money = |amount: Money| branding.amount(amount.amount());
    let total = |amount| branding.amount(amount);
    let mut text = format!(
        "{shop}\n\nHello,\n\n{intro}\n\nOrder: {id}\nStatus: {status}\nPlaced: {placed}\n\n",
        shop = facts.shop,
        intro = facts.intro,
        id = order.id,
        status = facts.status,
        placed = order.created_at.readable(),
    );
    for line in &order.items {
        let _ = writeln!(
            text,
            "- {} (SKU {}) x {} at {} = {}",
            one_line(&line.name),
            line.sku,
            line.quantity,
            money(line.price),
            total(line_total(line))
        );
    }
    let _ = write!(
        text,
        "\nTotal: {}\nDiscount: {}{}\nTo pay: {}\n{}",
        money(order.total_amount),
        money(order.discount_applied),
        facts.coupon,
        money(order.final_amount),
        ship_to(order).0
    );
    if let Some(link) = &facts.link {
        let _ = write!(text, "\nView your order: {link}\n");
    }
    let _ = write!(text, "\nThank you for shopping with {}.\n", facts.shop);
    text
}

/// The style of a table cell: `align`, with a rule under it.
fn cell(align: &str, rule: &str) -> String {
    format!("align=\"{align}\" style=\"padding:8px 4px;border-bottom:{rule} solid #e4e4e7\"")
}

fn html_part(order: &Order, facts: &Facts, branding: &Branding, subject: &str) -> String {
    let money = |amount: Money| escape_html(&branding.amount(amount.amount()));
    let total = |amount| escape_html(&branding.amount(amount));
    let mut rows = String::new();
    for line in &order.items {
        let _ = writeln!(
            rows,
            "<tr><td {left}>{name}<br><span style=\"color:#71717a;font-size:12px\">SKU {sku}</span></td><td {right}>{quantity}</td><td {right}>{price}</td><td {right}>{total}</td></tr>",
            left = cell("left", "1px"),
            right = cell("right", "1px"),
            name = escape_html(&one_line(&line.name)),
            sku = escape_html(line.sku.as_str()),
            quantity = line.quantity,
            price = money(line.price),
            total = total(line_total(line)),
        );
    }
    let button = facts.link.as_ref().map(|link| format!(
        "<p style=\"margin:24px 0 0\"><a href=\"{href}\" style=\"display:inline-block;padding:10px 18px;background:#18181b;color:#ffffff;text-decoration:none;border-radius:6px\">View your order</a></p>\n",
        href = escape_html(link)
    )).unwrap_or_default();
    let head = ["Item", "Qty", "Price", "Total"]
        .iter()
        .enumerate()
        .map(|(i, h)| {
            format!("<th {}>{h}</th>", cell(if i == 0 { "left" } else { "right" }, "2px"))
        })
        .collect::<String>();
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\"><title>{title}</title></head>\n<body style=\"margin:0;padding:0;background:#f4f4f5;font-family:Helvetica,Arial,sans-serif;color:#18181b\">\n<table role=\"presentation\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\" style=\"background:#f4f4f5\"><tr><td align=\"center\" style=\"padding:24px 12px\">\n<table role=\"presentation\" width=\"600\" cellpadding=\"0\" cellspacing=\"0\" style=\"max-width:600px;width:100%;background:#ffffff;border-radius:8px\">\n<tr><td style=\"padding:20px 32px;background:#18181b;color:#ffffff;font-size:20px;font-weight:bold;border-radius:8px 8px 0 0\">{shop}</td></tr>\n<tr><td style=\"padding:24px 32px;font-size:15px;line-height:1.5\">\n<p style=\"margin:0 0 12px\">Hello,</p>\n<p style=\"margin:0 0 16px\">{intro}</p>\n<p style=\"margin:0 0 16px;color:#52525b\">Order <strong style=\"color:#18181b\">{id}</strong> &middot; status <strong style=\"color:#18181b\">{status}</strong> &middot; placed {placed}</p>\n<table role=\"presentation\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\" style=\"border-collapse:collapse;font-size:14px\">\n<tr>{head}</tr>\n{rows}</table>\n<p style=\"margin:16px 0 0;text-align:right\">Total: {total}<br>Discount: {discount}{coupon}<br><strong style=\"font-size:17px\">To pay: {final_amount}</strong></p>\n{ship_to}{button}<p style=\"margin:24px 0 0\">Thank you for shopping with {shop}.</p>\n</td></tr>\n</table>\n</td></tr></table>\n</body>\n</html>\n",
        title = escape_html(subject),
        shop = escape_html(&facts.shop),
        intro = escape_html(&facts.intro),
        id = order.id,
        status = facts.status,
        placed = order.created_at.readable(),
        total = money(order.total_amount),
        discount = money(order.discount_applied),
        coupon = escape_html(&facts.coupon),
        final_amount = money(order.final_amount),
        ship_to = ship_to(order).1,
    )
}

/// The "Ship to" block as text and as HTML; empty without an address.
fn ship_to(order: &Order) -> (String, String) {
    let Some(address) = &order.shipping_address else {
        return (String::new(), String::new());
    };
    let lines: Vec<String> = address_lines(address).iter().map(|line| one_line(line)).collect();
    let html: Vec<String> = lines.iter().map(|line| escape_html(line)).collect();
    (
        format!("\nShip to:\n{}\n", lines.join("\n")),
        format!("<p style=\"margin:16px 0 0\">Ship to:<br>{}</p>\n", html.join("<br>")),
    )
}

/// A shipping address as the lines of a label.
fn address_lines(address: &PostalAddress) -> Vec<String> {
    let mut lines = vec![address.full_name.clone(), address.line1.clone()];
    lines.extend(address.line2.clone());
    lines.push(format!("{} {}", address.postal_code, address.city));
    lines.extend(address.region.clone());
    lines.push(address.country.clone());
    lines.extend(address.phone.as_ref().map(|phone| format!("Phone: {phone}")));
    lines
}

/// A line's price times its quantity.
fn line_total(line: &crate::domain::OrderLine) -> rust_decimal::Decimal {
    line.price.amount() * rust_decimal::Decimal::from(line.quantity)
}

/// The e-mail as a MIME message from `from`, with a stable `Message-ID` built from the event
/// (so a resend is recognisable as the same message).
pub fn to_mime(email: &OrderEmail, from: &str, event: &OrderEvent, date: Timestamp) -> Vec<u8> {
    let domain = from.rsplit_once('@').map_or("shop.invalid", |(_, domain)| domain);
    mail_builder::MessageBuilder::new()
        .from(from.to_owned())
        .to(email.to.clone())
        .subject(email.subject.clone())
        .message_id(format!("{}.{}@{domain}", event.order_id, event.id))
        .date(mail_builder::headers::date::Date::new(date.unix()))
        .text_body(email.text.clone())
        .html_body(email.html.clone())
        .write_to_vec()
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// A value stored with a line break (before validation refused them) cannot put a line of
    /// its own into the plain-text part: "Total: 0.00" stays inside the line it came in.
    #[test]
    fn stored_values_never_start_a_line_of_the_text_part() {
        let mut order = order("Pending", None);
        order.items[0].name = "Shoe\n\nTotal: 0.00\r\nTo pay: 0.00\u{2028}x".into();
        let mut address: PostalAddress = serde_json::from_value(json!({
            "full_name": "SECURITY ALERT\n\nTotal: 0.00",
            "line1": "1 Main St\r\nTo pay: 0.00",
            "city": "Paris\u{0}\u{2029}Total: 0.00",
            "postal_code": "75001",
            "country": "FR"
        }))
        .expect("address");
        address.region = Some("\u{202E}00.0 :latoT".into());
        order.shipping_address = Some(address);
        let email = placed(&order, "a@example.com");
        for line in email.text.lines() {
            assert!(!line.starts_with("Total: 0.00"), "{line:?} in {}", email.text);
            assert!(!line.starts_with("To pay: 0.00"), "{line:?} in {}", email.text);
            assert!(!line.chars().any(crate::domain::is_forbidden_in_text), "{line:?}");
        }
        assert!(email.text.contains("SECURITY ALERT  Total: 0.00"), "{}", email.text);
        // Nor can the shop's own name, set by the operator.
        let branding = Branding { shop_name: "Shop\nTo pay: 0.00".into(), ..Branding::default() };
        let email =
            render(&event(&order, OrderEventKind::OrderPlaced), &order, "a@example.com", &branding);
        assert!(email.text.lines().all(|line| !line.starts_with("To pay: 0.00")), "{}", email.text);
        assert!(!email.html.contains('\u{2028}') && !email.html.contains('\u{202E}'));
    }

    fn order(status: &str, coupon: Option<&str>) -> Order {
        serde_json::from_value(json!({
            "id": "01KAS0ZDQ4K8S5V4J1G8S2ZC3E",
            "user_id": "01KAS0Y0B9M3W6T7V8X9Y0Z1A2",
            "items": [
                { "product_id": "01KAS0XRQ9ZTB2Y4C6D8E0F1G2", "sku": "MUG-S", "name": "Mug <Small> & \"Co\" — Café", "quantity": 2, "price": "8.00" },
                { "product_id": "01KAS0XRQ9ZTB2Y4C6D8E0F1G3", "sku": "LAMP.1", "name": "Lamp 'Ünïcode' 灯", "quantity": 1, "price": "40.00" }
            ],
            "total_amount": "56.00", "discount_applied": "5.60", "final_amount": "50.40",
            "coupon_code": coupon, "status": status,
            "created_at": "2026-11-24T09:00:00Z", "updated_at": "2026-11-24T09:00:00Z"
        }))
        .unwrap()
    }

    /// The order-placed e-mail of `order` to `to`, with the default branding.
    fn placed(order: &Order, to: &str) -> OrderEmail {
        render(&event(order, OrderEventKind::OrderPlaced), order, to, &Branding::default())
    }

    fn event(order: &Order, kind: OrderEventKind) -> OrderEvent {
        OrderEvent {
            id: "01KAS10000000000000000000A".parse().unwrap(),
            order_id: order.id,
            user_id: order.user_id,
            kind,
            at: Timestamp::parse("2026-11-24T09:00:01Z").unwrap(),
        }
    }

    #[test]
    fn the_placed_e_mail_names_the_order_every_line_and_the_totals() {
        let order = order("Pending", Some("SAVE10"));
        let email = placed(&order, "ann@example.com");
        insta::assert_snapshot!("placed_subject", email.subject);
        insta::assert_snapshot!("placed_text", email.text);
        insta::assert_snapshot!("placed_html", email.html);
    }

    #[test]
    fn a_status_change_e_mail_names_the_new_status() {
        let order = order("Shipped", None);
        let shipped =
            OrderEventKind::StatusChanged { from: OrderStatus::Pending, to: OrderStatus::Shipped };
        let email =
            render(&event(&order, shipped), &order, "ann@example.com", &Branding::default());
        insta::assert_snapshot!("shipped_subject", email.subject);
        insta::assert_snapshot!("shipped_text", email.text);
        let cancelled = OrderEventKind::StatusChanged {
            from: OrderStatus::Pending,
            to: OrderStatus::Cancelled,
        };
        let email =
            render(&event(&order, cancelled), &order, "ann@example.com", &Branding::default());
        insta::assert_snapshot!("cancelled_subject", email.subject);
        assert!(email.html.contains(">Cancelled</strong>"), "{}", email.html);
    }

    /// The shop's name, amounts in its currency, a readable date and the order's link, in both
    /// parts; the link escaped in HTML.
    #[test]
    fn the_e_mail_carries_the_shops_name_currency_date_and_link() {
        let order = order("Pending", None);
        let branding = Branding {
            shop_name: "Café <Lumière>".into(),
            currency: "gbp".parse().unwrap(),
            order_url_template: Some("https://shop.example/orders/{order_id}?a=1&b=2".into()),
        };
        let email =
            render(&event(&order, OrderEventKind::OrderPlaced), &order, "a@example.com", &branding);
        let link = format!("https://shop.example/orders/{}?a=1&b=2", order.id);
        assert!(email.text.starts_with("Café <Lumière>\n"), "{}", email.text);
        assert!(email.text.contains("Placed: 24 November 2026, 09:00 UTC"), "{}", email.text);
        assert!(
            email.text.contains("x 2 at £8.00 = £16.00") && email.text.contains("To pay: £50.40")
        );
        assert!(email.text.contains(&format!("View your order: {link}")), "{}", email.text);
        assert!(email.text.ends_with("Thank you for shopping with Café <Lumière>.\n"));
        assert!(email.html.contains("Café &lt;Lumière&gt;") && !email.html.contains("<Lumière>"));
        assert!(email.html.contains(&format!("href=\"{}\"", escape_html(&link))), "{}", email.html);
        assert!(email.html.contains("placed 24 November 2026, 09:00 UTC"));
        assert!(email.html.contains("To pay: £50.40"));
        // Without a template there is no link.
        let plain = placed(&order, "a@example.com");
        assert!(!plain.text.contains("View your order") && !plain.html.contains("href="));
    }

    #[test]
    fn html_is_escaped_and_text_is_not() {
        let order = order("Pending", None);
        let email = placed(&order, "ann@example.com");
        assert!(
            email.html.contains("Mug &lt;Small&gt; &amp; &quot;Co&quot; — Café"),
            "{}",
            email.html
        );
        assert!(email.html.contains("Lamp &#39;Ünïcode&#39; 灯"));
        assert!(!email.html.contains("<Small>"));
        assert!(email.text.contains("Mug <Small> & \"Co\" — Café"));
        assert_eq!(
            escape_html("<a href=\"x\">&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;"
        );
    }

    #[test]
    fn the_shipping_address_is_on_the_e_mail_escaped_in_html() {
        let mut order = order("Pending", None);
        let email = placed(&order, "ann@example.com");
        assert!(!email.text.contains("Ship to:") && !email.html.contains("Ship to:"));
        order.shipping_address = Some(PostalAddress {
            full_name: "Ann <Admin> O'Neil".into(),
            line1: "1 Main St".into(),
            line2: Some("Flat 2".into()),
            city: "Dublin".into(),
            region: None,
            postal_code: "D02 X285".into(),
            country: "IE".into(),
            phone: None,
        });
        let email = placed(&order, "ann@example.com");
        assert!(
            email
                .text
                .contains("Ship to:\nAnn <Admin> O'Neil\n1 Main St\nFlat 2\nD02 X285 Dublin\nIE\n"),
            "{}",
            email.text
        );
        assert!(email.html.contains(
            "Ship to:<br>Ann &lt;Admin&gt; O&#39;Neil<br>1 Main St<br>Flat 2<br>D02 X285 Dublin<br>IE</p>"
        ));
    }

    #[test]
    fn the_mime_message_reads_back_as_both_parts_in_utf_8() {
        let order = order("Pending", Some("SAVE10"));
        let placed = event(&order, OrderEventKind::OrderPlaced);
        let email = render(&placed, &order, "ann@example.com", &Branding::default());
        let raw = to_mime(&email, "orders@shop.example", &placed, placed.at);
        let text = String::from_utf8(raw.clone()).unwrap();
        assert!(text.is_ascii(), "7-bit clean on the wire");
        assert!(text.contains("multipart/alternative"));
        let parsed = mail_parser::MessageParser::default().parse(&raw).unwrap();
        assert_eq!(parsed.subject(), Some(email.subject.as_str()));
        // On the wire every line ends in CRLF, as RFC 5322 requires.
        let lf = |body: Option<std::borrow::Cow<'_, str>>| body.map(|b| b.replace("\r\n", "\n"));
        assert_eq!(lf(parsed.body_text(0)).as_deref(), Some(email.text.as_str()));
        assert_eq!(lf(parsed.body_html(0)).as_deref(), Some(email.html.as_str()));
        let to = parsed.to().and_then(|a| a.first()).and_then(|a| a.address());
        assert_eq!(to, Some("ann@example.com"));
        assert_eq!(
            parsed.message_id(),
            Some(format!("{}.{}@shop.example", order.id, placed.id).as_str())
        );
        assert_eq!(parsed.date().map(|d| d.to_timestamp()), Some(placed.at.unix()));
    }

    #[test]
    fn payment_refund_and_expiry_e_mails_say_what_moved_in_the_shops_currency() {
        let order = order("Pending", None);
        let branding = Branding::default();
        let cases = [
            (OrderEventKind::PaymentReceived { amount: 5040 }, "Payment received", "€50.40"),
            (OrderEventKind::Refunded { amount: 500 }, "A refund", "€5.00"),
            (OrderEventKind::Expired, "has been cancelled", "not paid in time"),
        ];
        for (kind, subject, said) in cases {
            let email = render(&event(&order, kind), &order, "ann@example.com", &branding);
            assert!(email.subject.contains(subject), "{kind:?}: {}", email.subject);
            assert!(email.text.contains(said), "{kind:?}: {}", email.text);
            assert!(email.html.contains(&escape_html(said)), "{kind:?}");
        }
        let expired = render(&event(&order, OrderEventKind::Expired), &order, "a@b.c", &branding);
        assert!(expired.text.contains("Status: Cancelled"), "{}", expired.text);
    }
}
