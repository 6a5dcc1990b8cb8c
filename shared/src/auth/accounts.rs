use super::{AuthError, PasswordHasher, TokenKind, TokenPair, Tokens, extract::AuthUser};
use crate::{
    domain::{Email, FieldErrors, Password, Role, SessionId, Timestamp, TokenId, User, UserId},
    store::{RotateOutcome, Session, Store, StoreError, UserRecord},
};

/// A successful login: the token pair and the account.
#[derive(Debug, Clone)]
pub struct LoggedIn {
    pub tokens: TokenPair,
    pub user: User,
}

/// The account operations, over a store, the token signer and the hasher.
pub struct Accounts<'a> {
    pub(crate) store: &'a dyn Store,
    pub(crate) tokens: &'a Tokens,
    pub(crate) hasher: &'a PasswordHasher,
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
        self.create(email, password, role).await
    }

    async fn create(
        &self,
        email: Email,
        password: Password,
        role: Role,
    ) -> Result<User, AuthError> {
        let password_hash = self.hasher.hash(password).await?;
        let user = User {
            id: UserId::new(),
            email,
            role,
            created_at: Timestamp::now(),
        };
        match self
            .store
            .create_user(&UserRecord {
                user: user.clone(),
                password_hash,
            })
            .await
        {
            Ok(()) => Ok(user),
            Err(StoreError::Conflict(_)) => Err(AuthError::EmailTaken),
            Err(error) => Err(error.into()),
        }
    }

    /// Checks the password and opens a session. An unknown e-mail and a wrong password fail
    /// alike, after the same hashing work.
    pub async fn login(&self, email: &str, password: &str) -> Result<LoggedIn, AuthError> {
        let record = match Email::parse(email) {
            Ok(email) => self.store.find_user_by_email(&email).await?,
            Err(_) => None,
        };
        let stored = record.as_ref().map(|r| r.password_hash.clone());
        if !self.hasher.verify(password.to_owned(), stored).await {
            return Err(AuthError::InvalidCredentials);
        }
        let user = record.ok_or(AuthError::InvalidCredentials)?.user;
        let now = Timestamp::now();
        let session = Session {
            id: SessionId::new(),
            user_id: user.id,
            refresh_jti: TokenId::new(),
            created_at: now,
            expires_at: now.plus_seconds(self.tokens.refresh_ttl_seconds()),
        };
        self.store.create_session(&session).await?;
        let tokens = self.pair(&user, session.id, session.refresh_jti, now)?;
        Ok(LoggedIn { tokens, user })
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
            access_token: self
                .tokens
                .issue(TokenKind::Access, who, sid, TokenId::new(), now)?,
            refresh_token: self
                .tokens
                .issue(TokenKind::Refresh, who, sid, refresh_jti, now)?,
        })
    }

    /// Verifies an access token and that its session is still live (one read).
    pub async fn authenticate(&self, token: &str) -> Result<AuthUser, AuthError> {
        let claims = self.tokens.verify(token, TokenKind::Access)?;
        match self
            .store
            .find_session(claims.sid, Timestamp::now())
            .await?
        {
            Some(session) if session.user_id == claims.sub => Ok(AuthUser {
                id: claims.sub,
                email: claims.email,
                role: claims.role,
                session: claims.sid,
            }),
            _ => Err(AuthError::TokenRevoked),
        }
    }

    /// Exchanges a refresh token for a new pair, rotating the refresh token out. Presenting a
    /// rotated-out token again means it leaked: the whole session is revoked.
    pub async fn refresh(&self, token: &str) -> Result<TokenPair, AuthError> {
        let claims = self.tokens.verify(token, TokenKind::Refresh)?;
        let now = Timestamp::now();
        let next = TokenId::new();
        match self
            .store
            .rotate_refresh(claims.sid, claims.jti, next, now)
            .await?
        {
            RotateOutcome::Rotated(session) => {
                // The role is read afresh so a changed role takes effect at the next refresh.
                let user = self
                    .store
                    .find_user(session.user_id)
                    .await?
                    .ok_or(AuthError::TokenRevoked)?;
                self.pair(&user, session.id, next, now)
            }
            RotateOutcome::Reused => {
                tracing::warn!(session = %claims.sid, user = %claims.sub, "refresh token reuse; session revoked");
                self.store.delete_session(claims.sid).await?;
                Err(AuthError::TokenRevoked)
            }
            RotateOutcome::Gone => Err(AuthError::TokenRevoked),
        }
    }

    /// Ends the caller's session: its access and refresh tokens stop working at once.
    pub async fn logout(&self, user: &AuthUser) -> Result<(), AuthError> {
        Ok(self.store.delete_session(user.session).await?)
    }
}

/// Creates the admin account `email` if absent, or makes an existing account admin when
/// `password` is that account's password (so an account someone else registered under the
/// operator's address is never promoted). Used by the local server at start and by the
/// `create-admin` command of a deployment. Returns what it did.
pub async fn ensure_admin(
    store: &dyn Store,
    email: &str,
    password: &str,
) -> Result<&'static str, AuthError> {
    let mut errors = FieldErrors::new();
    let email = errors.check("email", Email::parse(email));
    let password = errors.check("password", Password::parse(password));
    let (Some(email), Some(password)) = (email, password) else {
        return Err(errors.into());
    };
    match store.find_user_by_email(&email).await? {
        Some(record) if record.user.role == Role::Admin => Ok("exists"),
        Some(record) => {
            let owns = PasswordHasher
                .verify(password.expose().to_owned(), Some(record.password_hash))
                .await;
            if !owns {
                return Err(AuthError::Forbidden(
                    "an account with this e-mail exists and the password given is not its password; not promoted",
                ));
            }
            store.set_role(&record.user, Role::Admin).await?;
            Ok("promoted")
        }
        None => {
            let password_hash = PasswordHasher.hash(password).await?;
            let user = User {
                id: UserId::new(),
                email,
                role: Role::Admin,
                created_at: Timestamp::now(),
            };
            store
                .create_user(&UserRecord {
                    user,
                    password_hash,
                })
                .await?;
            Ok("created")
        }
    }
}
