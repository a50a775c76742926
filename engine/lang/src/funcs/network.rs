//! IP network functions: cidrhost cidrnetmask cidrsubnet cidrsubnets, for IPv4 and IPv6.

use super::{arity, int_arg, str_arg, FResult, FuncError};
use crate::value::Value;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// A parsed prefix: address as an integer, prefix length and the address width in bits.
#[derive(Clone, Copy)]
pub struct Cidr {
    pub addr: u128,
    pub len: u32,
    pub bits: u32,
}

pub fn parse_cidr(s: &str) -> Result<Cidr, String> {
    let (ip, len) = s.split_once('/').ok_or_else(|| format!("invalid CIDR address: {s}"))?;
    let ip: IpAddr = ip.parse().map_err(|_| format!("invalid CIDR address: {s}"))?;
    let len: u32 = len.parse().map_err(|_| format!("invalid CIDR address: {s}"))?;
    let (addr, bits) = match ip {
        IpAddr::V4(v4) => (u32::from(v4) as u128, 32),
        IpAddr::V6(v6) => (u128::from(v6), 128),
    };
    if len > bits {
        return Err(format!("invalid CIDR address: {s}"));
    }
    let mask = if len == 0 { 0 } else { (!0u128 << (bits - len)) & width_mask(bits) };
    Ok(Cidr { addr: addr & mask, len, bits })
}

fn width_mask(bits: u32) -> u128 {
    if bits == 128 {
        !0
    } else {
        (1u128 << bits) - 1
    }
}

pub fn ip_text(addr: u128, bits: u32) -> String {
    if bits == 32 {
        Ipv4Addr::from(addr as u32).to_string()
    } else {
        Ipv6Addr::from(addr).to_string()
    }
}

pub fn subnet(base: Cidr, newbits: i64, netnum: i64) -> Result<Cidr, String> {
    if newbits < 0 {
        return Err("newbits must be non-negative".into());
    }
    let len = base.len + newbits as u32;
    if len > base.bits {
        return Err(format!("insufficient address space to extend prefix of {} by {newbits}", base.len));
    }
    if netnum < 0 || (newbits < 127 && (netnum as u128) >= (1u128 << newbits)) {
        return Err(format!("prefix extension of {newbits} does not accommodate a subnet numbered {netnum}"));
    }
    let shifted = (netnum as u128).checked_shl(base.bits - len).filter(|_| base.bits - len < 128).unwrap_or(0);
    Ok(Cidr { addr: base.addr | shifted, len, bits: base.bits })
}

pub fn call(name: &str, a: &[Value]) -> Option<FResult> {
    let cidr = |i| str_arg(a, i).and_then(|s| parse_cidr(&s).map_err(FuncError::Failed));
    Some(match name {
        "cidrhost" => arity(a, 2).and_then(|_| {
            let c = cidr(0)?;
            let host = int_arg(a, 1)?;
            let size: u128 = if c.bits - c.len >= 127 { u128::MAX } else { 1u128 << (c.bits - c.len) };
            let idx: u128 = if host < 0 {
                size.checked_sub(host.unsigned_abs() as u128)
                    .ok_or_else(|| FuncError::Failed(format!("prefix of {} does not accommodate a host numbered {host}", c.len)))?
            } else {
                host as u128
            };
            if idx >= size {
                return Err(FuncError::Failed(format!("prefix of {} does not accommodate a host numbered {host}", c.len)));
            }
            Ok(Value::String(ip_text(c.addr.saturating_add(idx), c.bits)))
        }),
        "cidrnetmask" => arity(a, 1).and_then(|_| {
            let c = cidr(0)?;
            if c.bits != 32 {
                return Err("only IPv4 networks have a netmask".into());
            }
            let mask = if c.len == 0 { 0 } else { (!0u128 << (32 - c.len)) & width_mask(32) };
            Ok(Value::String(ip_text(mask, 32)))
        }),
        "cidrsubnet" => arity(a, 3).and_then(|_| {
            let s = subnet(cidr(0)?, int_arg(a, 1)?, int_arg(a, 2)?).map_err(FuncError::Failed)?;
            Ok(Value::String(format!("{}/{}", ip_text(s.addr, s.bits), s.len)))
        }),
        "cidrsubnets" => {
            if a.is_empty() {
                return Some(Err("cidrsubnets needs a prefix".into()));
            }
            cidr(0).and_then(|base| {
                let mut out = Vec::new();
                let mut next: u128 = base.addr;
                let end: u128 = base.addr.saturating_add(if base.bits - base.len >= 127 { u128::MAX - base.addr } else { 1u128 << (base.bits - base.len) });
                for i in 1..a.len() {
                    let nb = int_arg(a, i)?;
                    if nb < 1 {
                        return Err("each newbits must be at least 1".into());
                    }
                    let len = base.len + nb as u32;
                    if len > base.bits {
                        return Err(FuncError::Failed(format!(
                            "would extend prefix to {len} bits, which is too long for an IPv{} address",
                            if base.bits == 32 { 4 } else { 6 }
                        )));
                    }
                    let size = 1u128 << (base.bits - len);
                    let start = next.div_ceil(size).checked_mul(size);
                    let fits = start.and_then(|s| s.checked_add(size)).is_some_and(|e| e <= end);
                    let Some(start) = start.filter(|_| fits) else {
                        return Err("not enough remaining address space for a subnet with a prefix of that length".into());
                    };
                    out.push(Value::String(format!("{}/{}", ip_text(start, base.bits), len)));
                    next = start.saturating_add(size);
                }
                Ok(Value::List(out))
            })
        }
        _ => return None,
    })
}
