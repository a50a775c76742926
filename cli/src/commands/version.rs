//! `infra version`.

use crate::out::Exit;

pub fn run() -> Result<i32, Exit> {
    println!("infra v{}", env!("CARGO_PKG_VERSION"));
    Ok(0)
}
