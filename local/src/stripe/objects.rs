//! The provider's objects as Stripe writes them (the fields Stripe's clients read), and the
//! rules that move a PaymentIntent: confirmation by test payment method, capture (partial
//! allowed), cancellation, refunds. Pure: the routes hold the lock around these.

use serde_json::{Value, json};

/// An error as Stripe answers it: HTTP status and the `error` object.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct StripeError {
    pub(super) status: u16,
    pub(super) kind: &'static str,
    pub(super) code: Option<&'static str>,
    pub(super) decline_code: Option<&'static str>,
    pub(super) message: String,
    pub(super) param: Option<&'static str>,
    /// The intent, for errors about one (Stripe includes it).
    pub(super) payment_intent: Option<Box<Value>>,
}

impl StripeError {
    /// A 400 `invalid_request_error`.
    pub(super) fn invalid(
        code: &'static str,
        message: impl Into<String>,
        param: Option<&'static str>,
    ) -> Self {
        Self {
            status: 400,
            kind: "invalid_request_error",
            code: Some(code),
            decline_code: None,
            message: message.into(),
            param,
            payment_intent: None,
        }
    }

    /// A 404 for an unknown object.
    pub(super) fn missing(what: &str, id: &str, param: Option<&'static str>) -> Self {
        Self {
            status: 404,
            ..Self::invalid("resource_missing", format!("No such {what}: '{id}'"), param)
        }
    }

    /// The JSON body.
    pub(super) fn body(&self) -> Value {
        let mut error = json!({ "type": self.kind, "message": self.message });
        for (name, value) in
            [("code", self.code), ("decline_code", self.decline_code), ("param", self.param)]
        {
            if let Some(value) = value {
                error[name] = json!(value);
            }
        }
        if let Some(intent) = &self.payment_intent {
            error["payment_intent"] = (**intent).clone();
        }
        json!({ "error": error })
    }
}

/// A PaymentIntent.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Intent {
    pub(super) id: String,
    pub(super) secret: String,
    pub(super) amount: i64,
    pub(super) currency: String,
    pub(super) capture_method: &'static str,
    pub(super) status: &'static str,
    pub(super) amount_capturable: i64,
    pub(super) amount_received: i64,
    pub(super) amount_refunded: i64,
    pub(super) payment_method: Option<String>,
    pub(super) last_error: Option<(&'static str, &'static str, String)>,
    pub(super) metadata: serde_json::Map<String, Value>,
    pub(super) description: Option<String>,
    pub(super) created: i64,
    pub(super) canceled_at: Option<i64>,
    pub(super) cancellation_reason: Option<String>,
    pub(super) charge: Option<String>,
}

/// What a confirmation with a test payment method does.
pub(super) enum Outcome {
    /// Authorised (and captured, under automatic capture).
    Approved,
    /// Declined with this decline code.
    Declined(&'static str),
    /// 3-D Secure is required.
    Authenticate,
}

/// Stripe's test payment methods this provider knows.
pub(super) fn test_card(payment_method: &str) -> Option<Outcome> {
    Some(match payment_method {
        "pm_card_visa" | "pm_card_mastercard" => Outcome::Approved,
        "pm_card_chargeDeclined" => Outcome::Declined("generic_decline"),
        "pm_card_visa_chargeDeclinedInsufficientFunds" => Outcome::Declined("insufficient_funds"),
        "pm_card_authenticationRequired" => Outcome::Authenticate,
        _ => return None,
    })
}

impl Intent {
    /// The JSON object.
    pub(super) fn to_json(&self) -> Value {
        let last_error = self.last_error.as_ref().map(|(code, decline, message)| {
            json!({ "type": "card_error", "code": code, "decline_code": decline,
                    "message": message, "payment_method": { "id": self.payment_method } })
        });
        let next_action = (self.status == "requires_action")
            .then(|| json!({ "type": "use_stripe_sdk", "use_stripe_sdk": {} }));
        json!({
            "id": self.id, "object": "payment_intent", "amount": self.amount,
            "amount_capturable": self.amount_capturable, "amount_received": self.amount_received,
            "automatic_payment_methods": null, "canceled_at": self.canceled_at,
            "cancellation_reason": self.cancellation_reason,
            "capture_method": self.capture_method, "client_secret": self.secret,
            "confirmation_method": "automatic", "created": self.created,
            "currency": self.currency, "customer": null, "description": self.description,
            "last_payment_error": last_error, "latest_charge": self.charge, "livemode": false,
            "metadata": self.metadata, "next_action": next_action,
            "payment_method": self.payment_method, "payment_method_types": ["card"],
            "status": self.status,
        })
    }

    /// The charge object of a paid intent (what `charge.refunded` carries).
    pub(super) fn charge_json(&self) -> Value {
        json!({
            "id": self.charge, "object": "charge", "amount": self.amount,
            "amount_captured": self.amount_received, "amount_refunded": self.amount_refunded,
            "captured": self.amount_received > 0, "currency": self.currency,
            "payment_intent": self.id, "refunded": self.amount_refunded == self.amount_received,
            "status": "succeeded", "metadata": self.metadata, "livemode": false,
        })
    }

    fn unexpected_state(&self, action: &str) -> StripeError {
        StripeError {
            payment_intent: Some(Box::new(self.to_json())),
            ..StripeError::invalid(
                "payment_intent_unexpected_state",
                format!(
                    "You cannot {action} this PaymentIntent because it has a status of {}.",
                    self.status
                ),
                None,
            )
        }
    }

    /// Confirms with `payment_method`; the event type it causes.
    pub(super) fn confirm(
        &mut self,
        payment_method: &str,
        charge_id: String,
    ) -> Result<&'static str, StripeError> {
        if !matches!(
            self.status,
            "requires_payment_method" | "requires_confirmation" | "requires_action"
        ) {
            return Err(self.unexpected_state("confirm"));
        }
        let outcome = test_card(payment_method).ok_or_else(|| {
            StripeError::missing("PaymentMethod", payment_method, Some("payment_method"))
        })?;
        self.payment_method = Some(payment_method.to_owned());
        self.last_error = None;
        match outcome {
            Outcome::Approved => Ok(self.approve(charge_id)),
            Outcome::Authenticate => {
                self.status = "requires_action";
                Ok("payment_intent.requires_action")
            }
            Outcome::Declined(decline) => {
                self.decline(decline);
                let error = StripeError {
                    status: 402,
                    kind: "card_error",
                    code: Some("card_declined"),
                    decline_code: Some(decline),
                    message: "Your card was declined.".into(),
                    param: None,
                    payment_intent: Some(Box::new(self.to_json())),
                };
                Err(error)
            }
        }
    }

    /// The customer passed (or failed) 3-D Secure; the event type it causes.
    pub(super) fn authenticate(
        &mut self,
        success: bool,
        charge_id: String,
    ) -> Result<&'static str, StripeError> {
        if self.status != "requires_action" {
            return Err(self.unexpected_state("authenticate"));
        }
        if success {
            return Ok(self.approve(charge_id));
        }
        self.decline("authentication_required");
        Ok("payment_intent.payment_failed")
    }

    fn decline(&mut self, decline: &'static str) {
        self.status = "requires_payment_method";
        self.last_error = Some(("card_declined", decline, "Your card was declined.".into()));
    }

    fn approve(&mut self, charge_id: String) -> &'static str {
        self.charge = Some(charge_id);
        if self.capture_method == "manual" {
            self.status = "requires_capture";
            self.amount_capturable = self.amount;
            "payment_intent.amount_capturable_updated"
        } else {
            self.status = "succeeded";
            self.amount_received = self.amount;
            "payment_intent.succeeded"
        }
    }

    /// Captures `amount` (all that is capturable when `None`); the rest is released.
    pub(super) fn capture(&mut self, amount: Option<i64>) -> Result<&'static str, StripeError> {
        if self.status != "requires_capture" {
            return Err(self.unexpected_state("capture"));
        }
        let amount = amount.unwrap_or(self.amount_capturable);
        if amount <= 0 || amount > self.amount_capturable {
            let message = format!(
                "The amount to capture ({amount}) must be positive and at most the amount capturable ({}).",
                self.amount_capturable
            );
            return Err(StripeError::invalid(
                "amount_too_large",
                message,
                Some("amount_to_capture"),
            ));
        }
        self.amount_received = amount;
        self.amount_capturable = 0;
        self.status = "succeeded";
        Ok("payment_intent.succeeded")
    }

    /// Cancels an intent not paid (or releases an authorisation).
    pub(super) fn cancel(
        &mut self,
        reason: Option<String>,
        now: i64,
    ) -> Result<&'static str, StripeError> {
        let cancellable = [
            "requires_payment_method",
            "requires_confirmation",
            "requires_action",
            "requires_capture",
        ];
        if !cancellable.contains(&self.status) {
            return Err(self.unexpected_state("cancel"));
        }
        self.status = "canceled";
        self.amount_capturable = 0;
        self.canceled_at = Some(now);
        self.cancellation_reason = reason;
        Ok("payment_intent.canceled")
    }

    /// Refunds `amount` (what is left when `None`); the amount refunded.
    pub(super) fn refund(&mut self, amount: Option<i64>) -> Result<i64, StripeError> {
        if self.status != "succeeded" {
            let message = format!(
                "This PaymentIntent ({}) does not have a successful charge to refund.",
                self.id
            );
            return Err(StripeError::invalid(
                "charge_not_refundable",
                message,
                Some("payment_intent"),
            ));
        }
        let left = self.amount_received - self.amount_refunded;
        if left == 0 {
            let message = format!(
                "Charge {} has already been refunded.",
                self.charge.as_deref().unwrap_or("")
            );
            return Err(StripeError::invalid("charge_already_refunded", message, None));
        }
        let amount = amount.unwrap_or(left);
        if amount <= 0 || amount > left {
            let message = format!(
                "Refund amount ({amount}) is greater than unrefunded amount on charge ({left})"
            );
            return Err(StripeError::invalid("amount_too_large", message, Some("amount")));
        }
        self.amount_refunded += amount;
        Ok(amount)
    }
}
