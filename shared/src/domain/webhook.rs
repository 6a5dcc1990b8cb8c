//! Webhook subscriptions and what a delivery is: which order events, to which URL (checked
//! against server-side request forgery), signed how, retried when.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

pub use super::webhook_event::{WebhookEventType, payload};
use super::{EventId, FieldErrors, Timestamp, WebhookId};

/// The longest accepted URL, in characters.
pub(super) const MAX_URL: usize = 2048;
/// How many webhooks a shop may have: one event's deliveries, 8 at a time within 5 s each,
/// then fit the worker's batch in its timeout.
pub const MAX_WEBHOOKS: u32 = 16;
/// Delivery attempts per event and webhook before it is recorded as failed.
pub const MAX_ATTEMPTS: u32 = 6;
/// How long a receiver has to answer, in seconds.
pub const TIMEOUT_SECONDS: u64 = 5;
/// The header carrying the event id (receivers deduplicate on it).
pub const EVENT_ID_HEADER: &str = "shop-event-id";
/// The header carrying the signature.
pub const SIGNATURE_HEADER: &str = "shop-signature";

/// A subscription: order events of `events` are POSTed to `url`, signed with `secret`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Webhook {
    /// The id.
    pub id: WebhookId,
    /// Where events go.
    pub url: String,
    /// What it receives.
    pub events: Vec<WebhookEventType>,
    /// The signing secret: shown once, when created, and never serialised with the webhook.
    #[serde(skip_serializing, default)]
    pub secret: String,
    /// When it was created (UTC).
    pub created_at: Timestamp,
}

/// `POST /admin/webhooks`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookInput {
    /// The receiver's URL.
    pub url: Option<String>,
    /// Event types, at least one.
    pub events: Option<Vec<String>>,
}

/// Which receivers a process may call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UrlPolicy {
    /// Deployed: `https` only, and only public addresses (never private, loopback,
    /// link-local or otherwise internal ones, checked again after DNS resolution).
    PublicHttps,
    /// The local server: `http` or `https`, loopback receivers allowed (other internal
    /// addresses are still refused).
    AllowLoopback,
}

impl UrlPolicy {
    /// Whether a receiver may be reached at `ip` under this policy.
    pub fn allows(self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        is_public(ip) || (self == Self::AllowLoopback && ip.is_loopback())
    }
}

/// IPv4-mapped IPv6 addresses (`::ffff:10.0.0.1`) as the IPv4 address they reach (a dual-stack
/// socket connects to that IPv4 address).
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// The IPv4 address an IPv6 address of a translation or tunnelling range carries, with the
/// range's name: a gateway on the path may deliver it to that IPv4 address, so such an address
/// is never a receiver (whatever the IPv4 address is: the range itself is refused).
fn embedded_ipv4(v6: Ipv6Addr) -> Option<(&'static str, Ipv4Addr)> {
    let seg = v6.segments();
    let last = Ipv4Addr::new((seg[6] >> 8) as u8, seg[6] as u8, (seg[7] >> 8) as u8, seg[7] as u8);
    match seg {
        [0, 0, 0, 0, 0, 0xffff, _, _] => Some(("IPv4-mapped ::ffff:0:0/96", last)),
        [0, 0, 0, 0, 0xffff, 0, _, _] => Some(("IPv4-translated ::ffff:0:0:0/96", last)),
        [0, 0, 0, 0, 0, 0, _, _] => Some(("IPv4-compatible ::/96", last)),
        [0x64, 0xff9b, 0, 0, 0, 0, _, _] => Some(("NAT64 64:ff9b::/96", last)),
        // Local-use NAT64 (RFC 8215): the prefix length, hence the IPv4 position, is the
        // operator's; the usual /96 position is reported.
        [0x64, 0xff9b, 1, ..] => Some(("local NAT64 64:ff9b:1::/48", last)),
        [0x2002, a, b, ..] => Some((
            "6to4 2002::/16",
            Ipv4Addr::new((a >> 8) as u8, a as u8, (b >> 8) as u8, b as u8),
        )),
        // Teredo: the client's IPv4 address, obfuscated (every bit inverted).
        [0x2001, 0, ..] => Some(("Teredo 2001::/32", Ipv4Addr::from(!u32::from(last)))),
        _ => None,
    }
}

/// A globally routable unicast address: not private, loopback, link-local (where cloud
/// metadata services live), shared (carrier-grade NAT), unspecified, broadcast, multicast,
/// documentation, benchmarking or reserved, nor an IPv6 unique-local, link-local,
/// site-local, discard-only (`100::/64`) one, nor one of a range that embeds an IPv4 address
/// (NAT64, 6to4, Teredo, IPv4-translated or -compatible; IPv4-mapped ones are judged as the
/// IPv4 address they are).
pub fn is_public(ip: IpAddr) -> bool {
    match canonical(ip) {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            !(v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
                || (a == 192 && b == 0 && c == 0)
                || (a == 198 && (b == 18 || b == 19))
                || a >= 240)
        }
        IpAddr::V6(v6) => {
            let seg = v6.segments();
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (seg[0] & 0xfe00) == 0xfc00
                || (seg[0] & 0xffc0) == 0xfe80
                || (seg[0] & 0xffc0) == 0xfec0
                || seg[0] == 0x2001 && seg[1] == 0x0db8
                || seg[..4] == [0x100, 0, 0, 0]
                || embedded_ipv4(v6).is_some())
        }
    }
}

/// A receiver URL under `policy`: scheme, host, no credentials, and when the host is an IP
/// literal, an allowed one. (Host names are checked when resolved, at creation and at every
/// delivery.)
pub fn check_url(input: &str, policy: UrlPolicy) -> Result<url::Url, String> {
    if input.chars().count() > MAX_URL {
        return Err(format!("must be at most {MAX_URL} characters"));
    }
    let url = url::Url::parse(input.trim()).map_err(|_| "must be an absolute URL".to_owned())?;
    match (url.scheme(), policy) {
        ("https", _) | ("http", UrlPolicy::AllowLoopback) => {}
        ("http", UrlPolicy::PublicHttps) => return Err("must use https".into()),
        _ => return Err("must be an http or https URL".into()),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not carry credentials".into());
    }
    let ip = match url.host() {
        None => return Err("must have a host".into()),
        Some(url::Host::Ipv4(v4)) => Some(IpAddr::V4(v4)),
        Some(url::Host::Ipv6(v6)) => Some(IpAddr::V6(v6)),
        Some(url::Host::Domain(_)) => None,
    };
    if ip.is_some_and(|ip| !policy.allows(ip)) {
        return Err("must not point to a private, loopback or link-local address".into());
    }
    Ok(url)
}

impl Webhook {
    /// A new webhook from an admin's input under `policy`, with a fresh secret.
    pub fn parse_new(
        input: WebhookInput,
        policy: UrlPolicy,
        now: Timestamp,
    ) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::new();
        let url = match input.url {
            Some(url) => errors.check("url", check_url(&url, policy)),
            None => {
                errors.add("url", "is required");
                None
            }
        };
        let mut events = Vec::new();
        match input.events {
            None => errors.add("events", "is required"),
            Some(names) if names.is_empty() => errors.add("events", "must name at least one event"),
            Some(names) => {
                for name in names {
                    match WebhookEventType::parse(&name) {
                        Some(t) if !events.contains(&t) => events.push(t),
                        Some(_) => {}
                        None => errors.add(
                            "events",
                            format!(
                                "unknown event {name:?}: use order.placed or order.status_changed"
                            ),
                        ),
                    }
                }
            }
        }
        let secret = new_secret();
        errors.into_result(|| Webhook {
            id: WebhookId::new(),
            url: url.map(String::from).unwrap_or_default(),
            events,
            secret,
            created_at: now,
        })
    }

    /// Whether it receives events of this type.
    pub fn wants(&self, event_type: WebhookEventType) -> bool {
        self.events.contains(&event_type)
    }
}

/// A signing secret: 32 random bytes, hex, with a prefix that makes a leaked one easy to spot.
fn new_secret() -> String {
    use rand::RngCore;
    let mut bytes = [0_u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("whsec_{}", hex::encode(bytes))
}

/// The `Shop-Signature` value for `body` sent at `t` (Unix seconds):
/// `t=<t>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.
pub fn signature(secret: &str, t: i64, body: &[u8]) -> String {
    // HMAC takes a key of any length.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        unreachable!("HMAC accepts keys of every length")
    };
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("t={t},v1={}", hex::encode(mac.finalize().into_bytes()))
}

/// The wait before attempt `attempts + 1` after `attempts` failed ones: `base`, doubling.
pub fn backoff_seconds(base: u64, attempts: u32) -> u64 {
    base.saturating_mul(1_u64 << attempts.saturating_sub(1).min(20))
}

/// Where one event's delivery to one webhook stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// Being attempted now.
    Sending,
    /// Failed so far; attempted again at `next_attempt_at`.
    Retrying,
    /// A 2xx answered.
    Delivered,
    /// Every attempt failed.
    Failed,
}

/// The delivery log of one event to one webhook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryRecord {
    /// The webhook.
    #[serde(skip)]
    pub webhook_id: WebhookId,
    /// The event (`Shop-Event-Id`).
    pub event_id: EventId,
    /// The event's type.
    pub event_type: WebhookEventType,
    /// Where it stands.
    pub state: DeliveryState,
    /// Attempts made.
    pub attempts: u32,
    /// The HTTP status of the last attempt, if the receiver answered.
    pub last_status: Option<u16>,
    /// Why the last attempt failed, if it did.
    pub last_error: Option<String>,
    /// When a 2xx answered.
    pub delivered_at: Option<Timestamp>,
    /// When the next attempt is due (while retrying).
    pub next_attempt_at: Option<Timestamp>,
    /// When the current attempt started (while sending).
    #[serde(skip)]
    pub claimed_at: Option<Timestamp>,
}

/// How one attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptResult {
    /// The receiver answered with this status.
    Answered(u16),
    /// No answer: timeout, connection failure, refused address.
    NoAnswer(String),
}

impl DeliveryRecord {
    /// The record after an attempt that ended with `result` at `now`, with retries every
    /// `base` seconds, doubling.
    pub fn after_attempt(&self, result: AttemptResult, now: Timestamp, base: u64) -> Self {
        let attempts = self.attempts + 1;
        let (last_status, last_error) = match result {
            AttemptResult::Answered(status) => (Some(status), None),
            AttemptResult::NoAnswer(error) => (None, Some(error)),
        };
        let delivered = last_status.is_some_and(|s| (200..300).contains(&s));
        let (state, delivered_at, next_attempt_at) = if delivered {
            (DeliveryState::Delivered, Some(now), None)
        } else if attempts >= MAX_ATTEMPTS {
            (DeliveryState::Failed, None, None)
        } else {
            let wait = i64::try_from(backoff_seconds(base, attempts)).unwrap_or(i64::MAX / 2);
            (DeliveryState::Retrying, None, Some(now.plus_seconds(wait)))
        };
        let last_error = match (delivered, last_error, last_status) {
            (false, None, Some(status)) => Some(format!("answered {status}")),
            (_, error, _) => error,
        };
        DeliveryRecord {
            state,
            attempts,
            last_status,
            last_error,
            delivered_at,
            next_attempt_at,
            claimed_at: None,
            ..self.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::{Ipv4Addr, Ipv6Addr};

    use super::*;

    #[test]
    fn the_signature_is_hmac_sha256_of_the_time_a_dot_and_the_body() {
        // Vectors computed independently with Python's hmac module.
        assert_eq!(
            signature("whsec_test", 1_700_000_000, b"{}"),
            "t=1700000000,v1=35495024f4ef3f94e5a93e22221544c4b75e9a42300cd965ab81cb85cd994e91"
        );
        assert_eq!(
            signature("whsec_test", 1_700_000_000, br#"{"a":1}"#),
            "t=1700000000,v1=38877139021993b830af32feea6e18a8da83eb2f6e49ee50bd9e4cf4ca4d3789"
        );
        assert_ne!(
            signature("whsec_other", 1_700_000_000, b"{}"),
            signature("whsec_test", 1_700_000_000, b"{}")
        );
    }

    #[test]
    fn internal_addresses_are_refused_and_public_ones_allowed() {
        let internal = [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "::ffff:169.254.169.254",
            "::ffff:127.0.0.1",
            "192.0.0.8",
            "198.18.0.1",
            "240.0.0.1",
        ];
        for ip in internal {
            let ip: IpAddr = ip.parse().unwrap();
            assert!(!is_public(ip), "{ip}");
            assert!(!UrlPolicy::PublicHttps.allows(ip), "{ip}");
        }
        for ip in ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111"] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
        assert!(UrlPolicy::AllowLoopback.allows(IpAddr::V4(Ipv4Addr::LOCALHOST)));
        assert!(UrlPolicy::AllowLoopback.allows(IpAddr::V6(Ipv6Addr::LOCALHOST)));
        assert!(!UrlPolicy::AllowLoopback.allows("169.254.169.254".parse().unwrap()));
        assert!(!UrlPolicy::AllowLoopback.allows("10.0.0.1".parse().unwrap()));
    }

    /// Every IPv6 range that carries an IPv4 address, and the discard range, is refused under
    /// both policies, whichever IPv4 address it carries (the metadata service's, loopback or a
    /// public one), and the address it carries is read where the range puts it.
    #[test]
    fn ipv6_translation_tunnel_and_discard_ranges_are_refused() {
        let metadata = Ipv4Addr::new(169, 254, 169, 254);
        let cases = [
            ("64:ff9b::a9fe:a9fe", Some(metadata)),
            ("64:ff9b::808:808", Some(Ipv4Addr::new(8, 8, 8, 8))),
            ("64:ff9b:1::a9fe:a9fe", Some(metadata)),
            ("2002:a9fe:a9fe::1", Some(metadata)),
            ("2002:0808:0808::1", Some(Ipv4Addr::new(8, 8, 8, 8))),
            ("::ffff:0:a9fe:a9fe", Some(metadata)),
            ("::ffff:0:7f00:1", Some(Ipv4Addr::LOCALHOST)),
            // Teredo: server 65.54.227.120, client 169.254.169.254 (inverted: 5601:5601).
            ("2001:0:4136:e378:8000:63bf:5601:5601", Some(metadata)),
            ("::a9fe:a9fe", Some(metadata)),
            ("100::1", None),
            ("100::a9fe:a9fe", None),
        ];
        for (text, carried) in cases {
            let v6: Ipv6Addr = text.parse().unwrap();
            assert_eq!(embedded_ipv4(v6).map(|(_, v4)| v4), carried, "{text}");
            let ip = IpAddr::V6(v6);
            assert!(!is_public(ip), "{text}");
            assert!(!UrlPolicy::PublicHttps.allows(ip), "{text}");
            assert!(!UrlPolicy::AllowLoopback.allows(ip), "{text}");
            let url = format!("https://[{text}]/hook");
            assert!(check_url(&url, UrlPolicy::PublicHttps).is_err(), "{url}");
            assert!(check_url(&url, UrlPolicy::AllowLoopback).is_err(), "{url}");
        }
        // Neighbours of those ranges stay public.
        for text in ["64:ff9c::a9fe:a9fe", "2003::1", "2001:4860:4860::8888", "101::1"] {
            assert!(is_public(text.parse().unwrap()), "{text}");
        }
    }

    #[test]
    fn urls_are_checked_for_scheme_credentials_and_literal_addresses() {
        let strict = UrlPolicy::PublicHttps;
        assert!(check_url("https://hooks.example.com/shop", strict).is_ok());
        assert_eq!(check_url("http://hooks.example.com/", strict).unwrap_err(), "must use https");
        assert!(check_url("ftp://example.com/", strict).is_err());
        assert!(check_url("https://user:pw@example.com/", strict).is_err());
        assert!(check_url("https://127.0.0.1/", strict).is_err());
        assert!(check_url("https://[::ffff:10.0.0.1]/", strict).is_err());
        assert!(check_url("https://169.254.169.254/latest/meta-data", strict).is_err());
        assert!(check_url("https://2130706433/", strict).is_err(), "decimal 127.0.0.1");
        assert!(check_url("not a url", strict).is_err());
        let local = UrlPolicy::AllowLoopback;
        assert!(check_url("http://127.0.0.1:9000/hook", local).is_ok());
        assert!(check_url("http://10.0.0.1/hook", local).is_err());
    }

    #[test]
    fn a_new_webhook_needs_a_url_and_known_events_and_gets_a_secret() {
        let input = |v: serde_json::Value| serde_json::from_value::<WebhookInput>(v).unwrap();
        let now = Timestamp::now();
        let hook = Webhook::parse_new(
            input(serde_json::json!({"url": "https://a.example/h", "events": ["order.placed", "order.placed"]})),
            UrlPolicy::PublicHttps,
            now,
        )
        .unwrap();
        assert_eq!(hook.events, vec![WebhookEventType::OrderPlaced]);
        assert!(hook.secret.starts_with("whsec_") && hook.secret.len() == 70);
        assert!(serde_json::to_value(&hook).unwrap().get("secret").is_none());
        let errors = Webhook::parse_new(
            input(serde_json::json!({"events": ["order.shipped"]})),
            UrlPolicy::PublicHttps,
            now,
        )
        .unwrap_err();
        assert!(errors.get("url").is_some() && errors.get("events").is_some());
        let none = Webhook::parse_new(
            input(serde_json::json!({"url": "https://a.example/h", "events": []})),
            UrlPolicy::PublicHttps,
            now,
        );
        assert!(none.unwrap_err().get("events").is_some());
    }

    #[test]
    fn failures_back_off_doubling_then_give_up_and_a_2xx_delivers() {
        assert_eq!(
            (1..=6).map(|n| backoff_seconds(10, n)).collect::<Vec<_>>(),
            [10, 20, 40, 80, 160, 320]
        );
        let now = Timestamp::now();
        let mut record = DeliveryRecord {
            webhook_id: WebhookId::new(),
            event_id: EventId::new(),
            event_type: WebhookEventType::OrderPlaced,
            state: DeliveryState::Sending,
            attempts: 0,
            last_status: None,
            last_error: None,
            delivered_at: None,
            next_attempt_at: None,
            claimed_at: Some(now),
        };
        record = record.after_attempt(AttemptResult::Answered(500), now, 10);
        assert_eq!(record.state, DeliveryState::Retrying);
        assert_eq!(record.next_attempt_at, Some(now.plus_seconds(10)));
        assert_eq!(record.last_error.as_deref(), Some("answered 500"));
        record = record.after_attempt(AttemptResult::NoAnswer("timed out".into()), now, 10);
        assert_eq!(record.next_attempt_at, Some(now.plus_seconds(20)));
        assert_eq!(record.last_status, None);
        for _ in 2..MAX_ATTEMPTS - 1 {
            record = record.after_attempt(AttemptResult::Answered(503), now, 10);
            assert_eq!(record.state, DeliveryState::Retrying);
        }
        let delivered = record.after_attempt(AttemptResult::Answered(204), now, 10);
        assert_eq!(delivered.state, DeliveryState::Delivered);
        assert_eq!(delivered.delivered_at, Some(now));
        assert_eq!(delivered.last_error, None);
        let failed = record.after_attempt(AttemptResult::Answered(302), now, 10);
        assert_eq!((failed.state, failed.attempts), (DeliveryState::Failed, MAX_ATTEMPTS));
        assert_eq!(failed.next_attempt_at, None);
    }
}
