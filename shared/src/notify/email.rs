//! Order e-mails: what an order event tells the customer, rendered as a subject, a plain-text
//! part and an HTML part (every value HTML-escaped), and assembled into one MIME message
//! (`multipart/alternative`, UTF-8) — the same bytes SES sends and the local server writes to
//! an `.eml` file.

use std::fmt::Write as _;

use crate::domain::{Order, OrderEvent, OrderEventKind, OrderStatus, PostalAddress, Timestamp};

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

fn headline(event: &OrderEvent, order: &Order) -> (String, String) {
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
    }
}

/// The status the event reports (not the order's status now, which may have moved on since).
fn reported_status(event: &OrderEvent) -> OrderStatus {
    match event.kind {
        OrderEventKind::OrderPlaced => OrderStatus::Pending,
        OrderEventKind::StatusChanged { to, .. } => to,
    }
}

/// Renders the e-mail `event` sends to `to` about `order`.
pub fn render(event: &OrderEvent, order: &Order, to: &str) -> OrderEmail {
    let (subject, intro) = headline(event, order);
    let status = reported_status(event);
    let coupon = order
        .coupon_code
        .as_ref()
        .map(|code| format!(" (coupon {})", code.as_str()))
        .unwrap_or_default();

    let mut text = format!(
        "Hello,\n\n{intro}\n\nOrder: {}\nStatus: {status}\nPlaced: {}\n\n",
        order.id, order.created_at
    );
    for line in &order.items {
        let _ = writeln!(
            text,
            "- {} (SKU {}) x {} at {} = {}",
            one_line(&line.name),
            line.sku,
            line.quantity,
            line.price,
            line_total(line)
        );
    }
    let (ship_to_text, ship_to) = ship_to(order);
    let _ = write!(
        text,
        "\nTotal: {}\nDiscount: {}{coupon}\nTo pay: {}\n{ship_to_text}\nThank you for shopping with us.\n",
        order.total_amount, order.discount_applied, order.final_amount
    );

    let mut rows = String::new();
    for line in &order.items {
        let _ = writeln!(
            rows,
            "<tr><td>{}</td><td>{}</td><td style=\"text-align:right\">{}</td><td style=\"text-align:right\">{}</td><td style=\"text-align:right\">{}</td></tr>",
            escape_html(&one_line(&line.name)),
            escape_html(line.sku.as_str()),
            line.quantity,
            line.price,
            line_total(line)
        );
    }
    let html = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\"><title>{title}</title></head>\n<body>\n<p>Hello,</p>\n<p>{intro}</p>\n<p>Order <strong>{id}</strong> &middot; status <strong>{status}</strong> &middot; placed {placed}</p>\n<table>\n<thead><tr><th>Item</th><th>SKU</th><th>Quantity</th><th>Price</th><th>Line total</th></tr></thead>\n<tbody>\n{rows}</tbody>\n</table>\n<p>Total: {total}<br>Discount: {discount}{coupon}<br><strong>To pay: {final_amount}</strong></p>\n{ship_to}<p>Thank you for shopping with us.</p>\n</body>\n</html>\n",
        title = escape_html(&subject),
        intro = escape_html(&intro),
        id = order.id,
        placed = order.created_at,
        total = order.total_amount,
        discount = order.discount_applied,
        coupon = escape_html(&coupon),
        final_amount = order.final_amount,
    );
    OrderEmail { to: to.to_owned(), subject, text, html }
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
        format!("<p>Ship to:<br>{}</p>\n", html.join("<br>")),
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

fn line_total(line: &crate::domain::OrderLine) -> String {
    let amount = line.price.amount() * rust_decimal::Decimal::from(line.quantity);
    crate::domain::Money::new(amount).map(|m| m.to_string()).unwrap_or_else(|_| amount.to_string())
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
        let email = render(&event(&order, OrderEventKind::OrderPlaced), &order, "a@example.com");
        for line in email.text.lines() {
            assert!(!line.starts_with("Total: 0.00"), "{line:?} in {}", email.text);
            assert!(!line.starts_with("To pay: 0.00"), "{line:?} in {}", email.text);
            assert!(!line.chars().any(crate::domain::is_forbidden_in_text), "{line:?}");
        }
        assert!(email.text.contains("SECURITY ALERT  Total: 0.00"), "{}", email.text);
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
        let email = render(&event(&order, OrderEventKind::OrderPlaced), &order, "ann@example.com");
        insta::assert_snapshot!("placed_subject", email.subject);
        insta::assert_snapshot!("placed_text", email.text);
        insta::assert_snapshot!("placed_html", email.html);
    }

    #[test]
    fn a_status_change_e_mail_names_the_new_status() {
        let order = order("Shipped", None);
        let shipped =
            OrderEventKind::StatusChanged { from: OrderStatus::Pending, to: OrderStatus::Shipped };
        let email = render(&event(&order, shipped), &order, "ann@example.com");
        insta::assert_snapshot!("shipped_subject", email.subject);
        insta::assert_snapshot!("shipped_text", email.text);
        let cancelled = OrderEventKind::StatusChanged {
            from: OrderStatus::Pending,
            to: OrderStatus::Cancelled,
        };
        let email = render(&event(&order, cancelled), &order, "ann@example.com");
        insta::assert_snapshot!("cancelled_subject", email.subject);
        assert!(email.html.contains("<strong>Cancelled</strong>"));
    }

    #[test]
    fn html_is_escaped_and_text_is_not() {
        let order = order("Pending", None);
        let email = render(&event(&order, OrderEventKind::OrderPlaced), &order, "ann@example.com");
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
        let email = render(&event(&order, OrderEventKind::OrderPlaced), &order, "ann@example.com");
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
        let email = render(&event(&order, OrderEventKind::OrderPlaced), &order, "ann@example.com");
        assert!(
            email
                .text
                .contains("Ship to:\nAnn <Admin> O'Neil\n1 Main St\nFlat 2\nD02 X285 Dublin\nIE\n"),
            "{}",
            email.text
        );
        assert!(email.html.contains(
            "<p>Ship to:<br>Ann &lt;Admin&gt; O&#39;Neil<br>1 Main St<br>Flat 2<br>D02 X285 Dublin<br>IE</p>"
        ));
    }

    #[test]
    fn the_mime_message_reads_back_as_both_parts_in_utf_8() {
        let order = order("Pending", Some("SAVE10"));
        let placed = event(&order, OrderEventKind::OrderPlaced);
        let email = render(&placed, &order, "ann@example.com");
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
}
