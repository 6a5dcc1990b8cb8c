//! The provider's HTTP routes: authentication, form parameters, idempotency, then the object
//! rules of `objects.rs` under the lock.

use axum::{
    Router,
    body::Bytes,
    extract::{Path, State},
    http::HeaderMap,
    response::Response,
    routing::{get, post},
};
use serde_json::{Value, json};

use super::{
    Books, Intent, LocalStripe, StripeError, new_id, now, record_event,
    wire::{Params, amount, idempotent, param, params, plain},
};

pub(super) fn router(stripe: LocalStripe) -> Router {
    Router::new()
        .route("/v1/payment_intents", post(create_intent))
        .route("/v1/payment_intents/{id}", get(retrieve_intent))
        .route("/v1/payment_intents/{id}/{action}", post(act_on_intent))
        .route("/v1/refunds", post(create_refund))
        .route("/v1/refunds/{id}", get(retrieve_refund))
        .route("/v1/events", get(list_events))
        .route("/test/payment_intents/{id}/authenticate", post(authenticate))
        .route("/test/faults", post(set_faults))
        .merge(super::endpoints::routes())
        .with_state(stripe)
}

async fn create_intent(
    State(stripe): State<LocalStripe>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    idempotent(&stripe, &headers, "create", &body, |books, key| {
        let known = [
            "amount",
            "currency",
            "capture_method",
            "payment_method",
            "confirm",
            "description",
            "metadata[",
            "payment_method_types[",
            "automatic_payment_methods[",
            "expand[",
        ];
        let params = params(&body, &known)?;
        let intent = new_intent(&params)?;
        let id = intent.id.clone();
        record_event(books, "payment_intent.created", intent.to_json(), key);
        books.intents.insert(id.clone(), intent);
        match (param(&params, "confirm"), param(&params, "payment_method")) {
            (Some("true"), Some(method)) => confirm(books, &id, method, key),
            (Some("true"), None) => Err(StripeError::invalid(
                "parameter_missing",
                "You must provide a payment_method to confirm.",
                Some("payment_method"),
            )),
            _ => Ok((200, books.intents[&id].to_json())),
        }
    })
}

fn new_intent(params: &Params) -> Result<Intent, StripeError> {
    let amount = amount(params, "amount")?.ok_or_else(|| {
        StripeError::invalid("parameter_missing", "Missing required param: amount.", Some("amount"))
    })?;
    let currency = param(params, "currency")
        .filter(|c| c.len() == 3 && c.bytes().all(|b| b.is_ascii_alphabetic()))
        .ok_or_else(|| {
            StripeError::invalid(
                "parameter_missing",
                "Missing required param: currency.",
                Some("currency"),
            )
        })?
        .to_ascii_lowercase();
    let capture_method = match param(params, "capture_method") {
        None | Some("automatic") | Some("automatic_async") => "automatic",
        Some("manual") => "manual",
        Some(other) => {
            return Err(StripeError::invalid(
                "parameter_invalid_string",
                format!("Invalid capture_method: {other}"),
                Some("capture_method"),
            ));
        }
    };
    let metadata = params
        .iter()
        .filter_map(|(n, v)| {
            n.strip_prefix("metadata[")?.strip_suffix(']').map(|k| (k.to_owned(), json!(v)))
        })
        .collect();
    let id = new_id("pi");
    Ok(Intent {
        secret: format!("{id}_secret_{}", &new_id("s")[2..]),
        id,
        amount,
        currency,
        capture_method,
        status: "requires_payment_method",
        amount_capturable: 0,
        amount_received: 0,
        amount_refunded: 0,
        payment_method: None,
        last_error: None,
        metadata,
        description: param(params, "description").map(str::to_owned),
        created: now(),
        canceled_at: None,
        cancellation_reason: None,
        charge: None,
    })
}

fn intent_mut<'a>(books: &'a mut Books, id: &str) -> Result<&'a mut Intent, StripeError> {
    books
        .intents
        .get_mut(id)
        .ok_or_else(|| StripeError::missing("payment_intent", id, Some("intent")))
}

fn confirm(
    books: &mut Books,
    id: &str,
    method: &str,
    key: Option<&str>,
) -> Result<(u16, Value), StripeError> {
    let intent = intent_mut(books, id)?;
    let confirmed = intent.confirm(method, new_id("ch"));
    let object = intent.to_json();
    match confirmed {
        Ok(kind) => {
            record_event(books, kind, object.clone(), key);
            Ok((200, object))
        }
        Err(declined) => {
            if declined.status == 402 {
                record_event(books, "payment_intent.payment_failed", object, key);
            }
            Err(declined)
        }
    }
}

async fn retrieve_intent(
    State(stripe): State<LocalStripe>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    plain(&stripe, &headers, |books| Ok(intent_mut(books, &id)?.to_json()))
}

async fn act_on_intent(
    State(stripe): State<LocalStripe>,
    headers: HeaderMap,
    Path((id, action)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let route = format!("{id}/{action}");
    idempotent(&stripe, &headers, &route, &body, |books, key| {
        let (known, run): (&[&str], _) = match action.as_str() {
            "confirm" => (&["payment_method", "return_url", "expand["], Action::Confirm),
            "capture" => (&["amount_to_capture", "expand["], Action::Capture),
            "cancel" => (&["cancellation_reason", "expand["], Action::Cancel),
            _ => {
                return Err(StripeError {
                    status: 404,
                    ..StripeError::invalid(
                        "resource_missing",
                        format!(
                            "Unrecognized request URL (POST: /v1/payment_intents/{id}/{action})."
                        ),
                        None,
                    )
                });
            }
        };
        let params = params(&body, known)?;
        run.apply(books, &id, &params, key)
    })
}

enum Action {
    Confirm,
    Capture,
    Cancel,
}

impl Action {
    fn apply(
        self,
        books: &mut Books,
        id: &str,
        params: &Params,
        key: Option<&str>,
    ) -> Result<(u16, Value), StripeError> {
        let kind = match self {
            Action::Confirm => {
                let method = intent_mut(books, id)?.payment_method.clone();
                let method = param(params, "payment_method")
                    .map(str::to_owned)
                    .or(method)
                    .ok_or_else(|| {
                        StripeError::invalid(
                            "parameter_missing",
                            "You must provide a payment_method to confirm.",
                            Some("payment_method"),
                        )
                    })?;
                return confirm(books, id, &method, key);
            }
            Action::Capture => {
                let amount = amount(params, "amount_to_capture")?;
                intent_mut(books, id)?.capture(amount)?
            }
            Action::Cancel => {
                let reason = param(params, "cancellation_reason").map(str::to_owned);
                intent_mut(books, id)?.cancel(reason, now())?
            }
        };
        let object = intent_mut(books, id)?.to_json();
        record_event(books, kind, object.clone(), key);
        Ok((200, object))
    }
}

async fn create_refund(
    State(stripe): State<LocalStripe>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    idempotent(&stripe, &headers, "refund", &body, |books, key| {
        let params =
            params(&body, &["payment_intent", "amount", "reason", "metadata[", "expand["])?;
        let id = param(&params, "payment_intent")
            .ok_or_else(|| {
                StripeError::invalid(
                    "parameter_missing",
                    "Missing required param: payment_intent.",
                    Some("payment_intent"),
                )
            })?
            .to_owned();
        let asked = amount(&params, "amount")?;
        let intent = books
            .intents
            .get_mut(&id)
            .ok_or_else(|| StripeError::missing("payment_intent", &id, Some("payment_intent")))?;
        let refunded = intent.refund(asked)?;
        let refund = json!({
            "id": new_id("re"), "object": "refund", "amount": refunded, "charge": intent.charge,
            "created": now(), "currency": intent.currency, "metadata": {}, "payment_intent": id,
            "reason": param(&params, "reason"), "status": "succeeded",
        });
        let charge = intent.charge_json();
        record_event(books, "charge.refunded", charge, key);
        books.refunds.insert(refund["id"].as_str().unwrap_or_default().to_owned(), refund.clone());
        Ok((200, refund))
    })
}

async fn retrieve_refund(
    State(stripe): State<LocalStripe>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    plain(&stripe, &headers, |books| {
        books
            .refunds
            .get(&id)
            .cloned()
            .ok_or_else(|| StripeError::missing("refund", &id, Some("id")))
    })
}

async fn list_events(State(stripe): State<LocalStripe>, headers: HeaderMap) -> Response {
    plain(&stripe, &headers, |books| {
        let data: Vec<Value> = books.events.iter().rev().take(100).cloned().collect();
        let more = books.events.len() > 100;
        Ok(json!({ "object": "list", "url": "/v1/events", "has_more": more, "data": data }))
    })
}

async fn authenticate(
    State(stripe): State<LocalStripe>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let route = format!("{id}/authenticate");
    idempotent(&stripe, &headers, &route, &body, |books, key| {
        let params = params(&body, &["result"])?;
        let success = param(&params, "result") != Some("failure");
        let kind = intent_mut(books, &id)?.authenticate(success, new_id("ch"))?;
        let object = intent_mut(books, &id)?.to_json();
        record_event(books, kind, object.clone(), key);
        Ok((200, object))
    })
}

async fn set_faults(
    State(stripe): State<LocalStripe>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    plain(&stripe, &headers, |books| {
        let params = params(&body, &["fail_after_commit"])?;
        let count = param(&params, "fail_after_commit").and_then(|n| n.parse().ok()).unwrap_or(0);
        books.fail_after_commit = count;
        Ok(json!({ "fail_after_commit": count }))
    })
}
