//! Who is calling: passwords, access tokens, refresh tokens, API keys, the
//! actor of a request, and the guards that check it.

pub mod actor;
pub mod authenticate;
pub mod guards;
pub mod password;
pub mod secrets;
pub mod tokens;
