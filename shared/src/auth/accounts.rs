//! Account operations: registration, login with per-address lockout, refresh with rotation
//! and a reuse grace window, logout, and the operator's `ensure_admin`/`ensure_account`.

use super::{AuthError, AuthUser, PasswordHasher, TokenKind, TokenPair, Tokens};
use crate::domain::Clock;
use crate::retry::until_answered;
use crate::store::Conflict;
use crate::{
    config::LoginPolicy,
    domain::{
        AuditAction, AuditEntry, Email, FieldErrors, Password, Role, SessionId, Timestamp, TokenId,
        User, UserId,
    },
    metrics::{Metric, MetricsSink},
    store::{
        AccountStorage, LoginAdmission, LoginWindow, RotateOutcome, Rotation, Session, StoreError,
        UserRecord, UserStore,
    },
};

/// What to do with a refresh token that is not the session's current one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StaleRefresh {
    /// It was rotated out within the grace window (two tabs refreshing at once): answer
    /// with the session's current refresh token, rotate nothing.
    Grace,
    /// A replay: the token leaked; end the session.
    Replay,
}

/// Decides on a refresh token `presented` that `session` no longer holds as current.
pub fn stale_refresh(
    session: &Session,
    presented: TokenId,
    now: Timestamp,
    grace_seconds: i64,
) -> StaleRefresh {
    match session.previous_jti {
        Some((previous, rotated_at))
            if previous == presented
                && grace_seconds > 0
                && now.unix() - rotated_at.unix() <= grace_seconds =>
        {
            StaleRefresh::Grace
        }
        _ => StaleRefresh::Replay,
    }
}

/// A successful login: the token pair and the account.
#[derive(Debug, Clone)]
pub struct LoggedIn {
    /// The access and refresh tokens.
    pub tokens: TokenPair,
    /// The account that logged in.
    pub user: User,
}

/// The account operations, over a store, the token signer and the hasher.
pub struct Accounts<'a> {
    pub(crate) store: &'a dyn AccountStorage,
    pub(crate) tokens: &'a Tokens,
    pub(crate) hasher: &'a PasswordHasher,
    pub(crate) policy: LoginPolicy,
    pub(crate) metrics: &'a dyn MetricsSink,
    pub(crate) clock: &'a dyn Clock,
}

impl Accounts<'_> {
    /// Validates and creates an account. Only an admin may create a non-customer account:
    /// the API this replaces let anyone register as an admin.
    pub async fn register(
        &self,
        email: &str,
        password: &str,
        role: Option<&str>,
        requester: Option<&AuthUser>,
    ) -> Result<User, AuthError> {
        let mut errors = FieldErrors::new();
        let email = errors.check("email", Email::parse(email));
        let password = errors.check("password", Password::parse(password));
        let role = match role {
            None => Some(Role::Customer),
            Some(role) => errors.check("role", role.parse::<Role>()),
        };
        let (Some(email), Some(password), Some(role)) = (email, password, role) else {
            return Err(errors.into());
        };
        let requester_is_admin = requester.is_some_and(|r| r.role == Role::Admin);
        if !role.is_self_service() && !requester_is_admin {
            return Err(AuthError::Forbidden(
                "Only an admin can create prime_customer or admin accounts",
            ));
        }
        let admin = requester.filter(|_| requester_is_admin).map(|r| r.id);
        self.create(email, password, role, admin).await
    }

    /// Creates the account; one an admin registers is an admin write, recorded in the audit
    /// trail with the account.
    async fn create(
        &self,
        email: Email,
        password: Password,
        role: Role,
        admin: Option<UserId>,
    ) -> Result<User, AuthError> {
        let password_hash = self.hasher.hash(password).await?;
        let now = self.clock.now();
        let user = User { id: UserId::new(), email, role, created_at: now };
        let audit = admin.map(|actor| {
            let details = serde_json::json!({ "role": role });
            AuditEntry::new(actor, AuditAction::AccountRegistered, user.id, details, now)
        });
        let record = UserRecord { user: user.clone(), password_hash };
        // Retry safety: the account is created with a new id, conditional on its e-mail being
        // free, so it applies once. When its answer is lost (the SDK's retry then finds the
        // e-mail taken, by itself; or the database does not answer), the account read back
        // by e-mail holding this id means it landed.
        let created = self.store.create_user(&record, audit.as_ref()).await;
        let created = match created {
            Err(StoreError::Conflict(_) | StoreError::Unavailable(_)) => {
                let email = &record.user.email;
                match until_answered(|| self.store.find_user_by_email(email)).await? {
                    Some(found) if found.user.id == user.id => Ok(()),
                    _ => created,
                }
            }
            other => other,
        };
        match created {
            Ok(()) => Ok(user),
            Err(StoreError::Conflict(_)) => Err(AuthError::EmailTaken),
            Err(error) => Err(error.into()),
        }
    }

    /// Checks the password and opens a session. An unknown e-mail and a wrong password fail
    /// alike, after the same hashing work, and count alike towards the e-mail's lockout.
    /// Publishes `LoginSucceeded`, `LoginFailed` or `LoginThrottled` (operation `login`).
    pub async fn login(&self, email: &str, password: &str) -> Result<LoggedIn, AuthError> {
        let outcome = self.check_login(email, password).await;
        let metric = match &outcome {
            Ok(_) => Some("LoginSucceeded"),
            Err(AuthError::InvalidCredentials) => Some("LoginFailed"),
            Err(AuthError::TooManyAttempts { .. }) => Some("LoginThrottled"),
            Err(_) => None,
        };
        if let Some(name) = metric {
            self.metrics.publish("login", &[Metric::count(name)]);
        }
        outcome
    }

    async fn check_login(&self, email: &str, password: &str) -> Result<LoggedIn, AuthError> {
        let Ok(email) = Email::parse(email) else {
            // Not an address anyone can own: nothing to count, same work and answer.
            self.hasher.verify(password.to_owned(), None).await;
            return Err(AuthError::InvalidCredentials);
        };
        let now = self.clock.now();
        // The attempt is counted before the password is checked, atomically: a burst of
        // concurrent guesses gets at most `max_failures` checks per window, and the others,
        // the right password among them, are refused alike without hashing anything.
        let (max_attempts, seconds) = (self.policy.max_failures, self.policy.window_seconds);
        let window = LoginWindow { now, max_attempts, seconds };
        let admission = self.store.admit_login(&email, window).await?;
        let (account, attempts) = match admission {
            LoginAdmission::Locked { retry_after_seconds } => {
                return Err(AuthError::TooManyAttempts { retry_after_seconds });
            }
            LoginAdmission::Admitted { account, attempts } => (account, attempts),
        };
        let stored = account.as_ref().map(|a| a.password_hash.clone());
        let right = self.hasher.verify(password.to_owned(), stored).await;
        let (Some(account), true) = (account, right) else {
            if attempts.count == self.policy.max_failures {
                tracing::warn!(
                    attempts = attempts.count,
                    "login locked for an account until its window ends"
                );
            }
            return Err(AuthError::InvalidCredentials);
        };
        // A role change between reading the account and opening the session: the account is
        // read again (the password was checked already), so the session never holds a stale
        // role.
        let mut user = account.user;
        for _ in 0..3 {
            match self.open_session(&user, now).await {
                Err(AuthError::Store(StoreError::Conflict(Conflict::RoleChanged))) => {
                    match self.store.find_user_by_email(&email).await? {
                        Some(current) if current.user.id == user.id => user = current.user,
                        _ => return Err(AuthError::InvalidCredentials),
                    }
                }
                outcome => return outcome,
            }
        }
        Err(StoreError::Conflict(Conflict::TransactionConflict).into())
    }

    /// Opens a session (and clears the login attempts) for `user`, who gave the right password.
    async fn open_session(&self, user: &User, now: Timestamp) -> Result<LoggedIn, AuthError> {
        let session = Session::open(user, now, self.tokens.refresh_ttl_seconds());
        // Retry safety: the session id is new and the put is conditional on its absence, so
        // it applies once. When its answer is lost (the SDK's retry then finds the session it
        // created, or the database does not answer), the session is read back: there, it
        // landed, and the login succeeded.
        match self.store.create_session(&session).await {
            Ok(()) => {}
            Err(
                error
                @ (StoreError::Conflict(Conflict::SessionExists) | StoreError::Unavailable(_)),
            ) => {
                let found = until_answered(|| self.store.find_session(user.id, session.id, now));
                if found.await?.is_none() {
                    return Err(error.into());
                }
            }
            Err(error) => return Err(error.into()),
        }
        let tokens = self.pair(user, session.id, session.refresh_jti, now)?;
        Ok(LoggedIn { tokens, user: user.clone() })
    }

    fn pair(
        &self,
        user: &User,
        sid: SessionId,
        refresh_jti: TokenId,
        now: Timestamp,
    ) -> Result<TokenPair, AuthError> {
        let who = (user.id, &user.email, user.role);
        Ok(TokenPair {
            access_token: self.tokens.issue(TokenKind::Access, who, sid, TokenId::new(), now)?,
            refresh_token: self.tokens.issue(TokenKind::Refresh, who, sid, refresh_jti, now)?,
        })
    }

    /// Verifies an access token and that its session is still live (one read). The caller's
    /// id, e-mail and role are the session's, never the token's claims: a token re-signed
    /// with another role gains nothing.
    pub async fn authenticate(&self, token: &str) -> Result<AuthUser, AuthError> {
        let claims = self.tokens.verify(token, TokenKind::Access)?;
        let session = self
            .store
            .find_session(claims.sub, claims.sid, self.clock.now())
            .await?
            .ok_or(AuthError::TokenRevoked)?;
        Ok(AuthUser {
            id: session.user_id,
            email: session.email.as_str().to_owned(),
            role: session.role,
            session: session.id,
        })
    }

    /// Exchanges a refresh token for a new pair, rotating the refresh token out. The token
    /// rotated out last may be exchanged again within the grace window (two tabs refreshing
    /// at once); presenting an older one, or after the window, means it leaked: the whole
    /// session is revoked.
    pub async fn refresh(&self, token: &str) -> Result<TokenPair, AuthError> {
        let claims = self.tokens.verify(token, TokenKind::Refresh)?;
        let now = self.clock.now();
        let next = TokenId::new();
        let rotation =
            Rotation { user: claims.sub, session: claims.sid, presented: claims.jti, next, now };
        // Retry safety: the rotation is conditional on the presented token being current, and
        // `next` is new. When its answer is lost (the SDK's retry then finds the session
        // rotated, by itself, to `next`; or the database does not answer), the session read
        // back holding `next` means it landed.
        let outcome = match self.store.rotate_refresh(&rotation).await {
            Err(StoreError::Unavailable(cause)) => {
                let found = until_answered(|| self.store.find_session(claims.sub, claims.sid, now));
                match found.await? {
                    Some(session) => RotateOutcome::Stale(session),
                    None => return Err(StoreError::Unavailable(cause).into()),
                }
            }
            other => other?,
        };
        match outcome {
            RotateOutcome::Rotated(session) => self.session_pair(&session, next, now),
            RotateOutcome::Stale(session) if session.refresh_jti == next => {
                self.session_pair(&session, next, now)
            }
            RotateOutcome::Stale(session) => {
                let grace = self.tokens.refresh_reuse_grace_seconds();
                match stale_refresh(&session, claims.jti, now, grace) {
                    StaleRefresh::Grace => self.session_pair(&session, session.refresh_jti, now),
                    StaleRefresh::Replay => {
                        tracing::warn!(session = %claims.sid, user = %session.user_id, "refresh token reuse; session revoked");
                        self.store.delete_session(session.user_id, session.id).await?;
                        Err(AuthError::TokenRevoked)
                    }
                }
            }
            RotateOutcome::Gone => Err(AuthError::TokenRevoked),
        }
    }

    /// A pair for the session's identity (kept current by role changes), with `refresh_jti`.
    fn session_pair(
        &self,
        session: &Session,
        refresh_jti: TokenId,
        now: Timestamp,
    ) -> Result<TokenPair, AuthError> {
        let user = User {
            id: session.user_id,
            email: session.email.clone(),
            role: session.role,
            created_at: session.created_at,
        };
        self.pair(&user, session.id, refresh_jti, now)
    }

    /// Ends the caller's session: its access and refresh tokens stop working at once.
    pub async fn logout(&self, user: &AuthUser) -> Result<(), AuthError> {
        Ok(self.store.delete_session(user.id, user.session).await?)
    }
}

/// Creates the admin account `email` if absent, or makes an existing account admin when
/// `password` is that account's password (so an account someone else registered under the
/// operator's address is never promoted). Used by the local server at start and by the
/// `create-admin` command of a deployment. Returns what it did.
pub async fn ensure_admin(
    store: &dyn UserStore,
    email: &str,
    password: &str,
) -> Result<&'static str, AuthError> {
    ensure_account(store, email, password, Role::Admin).await
}

/// Creates the account `email` with `role` if absent (`"created"`), leaves it if it has the
/// role (`"exists"`), or gives it the role when `password` is that account's password
/// (`"role changed"`); an account whose password differs keeps its role (403). A creation or a
/// role change is in the audit trail (`"by": "operator"`, the account itself as actor).
pub async fn ensure_account(
    store: &dyn UserStore,
    email: &str,
    password: &str,
    role: Role,
) -> Result<&'static str, AuthError> {
    let mut errors = FieldErrors::new();
    let email = errors.check("email", Email::parse(email));
    let password = errors.check("password", Password::parse(password));
    let (Some(email), Some(password)) = (email, password) else {
        return Err(errors.into());
    };
    match store.find_user_by_email(&email).await? {
        Some(record) if record.user.role == role => Ok("exists"),
        Some(record) => {
            let owns = PasswordHasher
                .verify(password.expose().to_owned(), Some(record.password_hash))
                .await;
            if !owns {
                return Err(AuthError::Forbidden(
                    "an account with this e-mail exists and the password given is not its password; role not changed",
                ));
            }
            let details =
                serde_json::json!({ "from": record.user.role, "to": role, "by": "operator" });
            let audit = operator_entry(&record.user, AuditAction::AccountRoleChanged, details);
            store.set_role(&record.user, role, &audit).await?;
            Ok("role changed")
        }
        None => {
            let password_hash = PasswordHasher.hash(password).await?;
            let user = User { id: UserId::new(), email, role, created_at: Timestamp::now() };
            let details = serde_json::json!({ "role": role, "by": "operator" });
            let audit = operator_entry(&user, AuditAction::AccountRegistered, details);
            store.create_user(&UserRecord { user, password_hash }, Some(&audit)).await?;
            Ok("created")
        }
    }
}

/// An operator's change to `account`: no admin acts, so the account is its own actor.
fn operator_entry(account: &User, action: AuditAction, details: serde_json::Value) -> AuditEntry {
    AuditEntry::new(account.id, action, account.id, details, Timestamp::now())
}
