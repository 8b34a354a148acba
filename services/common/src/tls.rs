//! The process's rustls crypto provider: ring, the only one built (see the
//! workspace Cargo.toml). reqwest is built without a provider of its own and
//! panics building a client until one is installed, so every process installs
//! it before its first client: service start-up, the test set-up, the
//! authenticator (its JWKS client) and the CLI.

/// Install ring as rustls's process-wide default. Safe to call many times:
/// later calls (and a provider already installed) are left as they are.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
