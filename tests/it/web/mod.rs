//! The analyst's web view (issue 17): a real browser (headless Chromium over
//! WebDriver) against a database seeded through the real pipeline, the
//! login and CSRF rules and its failure budget, the response headers, the
//! listener's limits against slow and numerous clients, and the refusal to
//! serve a non-loopback address without a login.

mod browser;
mod daemon;
mod digest;
mod login_budget;
mod safety;
mod seed;
mod slow_clients;
