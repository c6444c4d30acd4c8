//! Holding webhook URLs to the deployment's [`TargetPolicy`]: when an
//! endpoint is registered, and again on every send, where the dispatcher's
//! client resolves names itself and connects only to the addresses the
//! policy accepts (so a name that later resolves to the database host, DNS
//! rebinding, still reaches nothing private).

use std::{net::SocketAddr, sync::Arc, time::Duration};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::{Host, Url};

use crate::{
    domain::webhook_target::{TargetPolicy, refusal, scheme_refusal},
    error::{AppError, AppResult},
};

/// Checks a URL an admin registers: its scheme, and every address its host
/// is or resolves to.
///
/// # Errors
/// `BAD_USER_INPUT` on `url`, saying why.
pub async fn check_new_url(url: &str, policy: TargetPolicy) -> AppResult<Url> {
    let refused = |why: String| AppError::bad_input("url", why);
    let parsed = Url::parse(url).map_err(|_| refused("not a URL".to_owned()))?;
    if let Some(why) = scheme_refusal(parsed.scheme(), policy) {
        return Err(refused(why.to_owned()));
    }
    if url.len() > 2000 {
        return Err(refused("at most 2000 characters".to_owned()));
    }
    let port = parsed.port_or_known_default().unwrap_or(443);
    let addresses: Vec<SocketAddr> = match parsed.host() {
        None => return Err(refused("the URL names no host".to_owned())),
        Some(Host::Ipv4(v4)) => vec![SocketAddr::from((v4, port))],
        Some(Host::Ipv6(v6)) => vec![SocketAddr::from((v6, port))],
        Some(Host::Domain(domain)) => tokio::net::lookup_host((domain, port))
            .await
            .map_err(|_| refused(format!("the host {domain} does not resolve")))?
            .collect(),
    };
    if let Some(why) = addresses
        .iter()
        .find_map(|address| refusal(address.ip(), policy))
    {
        return Err(refused(format!(
            "webhooks go only to public addresses; this one reaches {why}"
        )));
    }
    Ok(parsed)
}

/// Why a stored endpoint's URL may not be sent to now, before any name is
/// resolved: its scheme, or the address it is written as. Names are
/// checked as they resolve, by [`client`]'s resolver.
pub fn send_refusal(url: &str, policy: TargetPolicy) -> Option<String> {
    let Ok(parsed) = Url::parse(url) else {
        return Some("the stored URL does not parse".to_owned());
    };
    if let Some(why) = scheme_refusal(parsed.scheme(), policy) {
        return Some(why.to_owned());
    }
    let literal = match parsed.host()? {
        Host::Ipv4(v4) => std::net::IpAddr::V4(v4),
        Host::Ipv6(v6) => std::net::IpAddr::V6(v6),
        Host::Domain(_) => return None,
    };
    refusal(literal, policy).map(|why| format!("refused to send to {why}"))
}

/// The dispatcher's HTTP client: 10 s per attempt, no redirects, no proxy
/// from the environment, and names resolved to accepted addresses only.
///
/// # Errors
/// When the TLS backend cannot start; there is deliberately no fallback
/// to a client without these guards.
pub fn client(policy: TargetPolicy) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .dns_resolver(Arc::new(AcceptedAddresses(policy)))
        .build()
}

/// Resolves a name and keeps only the addresses the policy accepts.
struct AcceptedAddresses(TargetPolicy);

impl Resolve for AcceptedAddresses {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.0;
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let accepted: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|address| refusal(address.ip(), policy).is_none())
                .collect();
            if accepted.is_empty() {
                return Err(format!("{host} resolves to no public address").into());
            }
            Ok(Box::new(accepted.into_iter()) as Addrs)
        })
    }
}
