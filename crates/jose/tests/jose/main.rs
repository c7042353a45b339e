//! Black-box tests of the JOSE adapter: what a client and the rest of Coffre rely on.

mod helpers;
mod jwks;
mod key_files;
mod refusals;
mod rotation;
mod seal;
mod signing;
