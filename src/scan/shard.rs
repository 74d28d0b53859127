//! `scan --shard I/N`: a deterministic 1/N of the (account, region) pairs, so that N runners
//! each scan a share and `onwatch merge` joins them into what one scan would have written.
//!
//! A pair's shard is a stable hash of the pair (FNV-1a, [`crate::support::stable_hash`]) modulo
//! N, not its index in the sorted list: runners form their lists independently (an organisation
//! listed a minute apart can gain an account), and an index would then shift every later pair
//! into another shard, scanning some twice and some never. With the hash a pair's shard depends
//! on the pair alone. The price is balance: shares are binomial, not equal (for 17,000 pairs over
//! 100 shards, 170 ± 13).

use std::fmt;
use std::str::FromStr;

/// Shard `index` of `count` (1-based, as written on the command line).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

impl FromStr for Shard {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let bad = || format!("{text:?} is not a shard: write I/N with 1 <= I <= N, such as 2/5");
        let (index, count) = text.split_once('/').ok_or_else(bad)?;
        let number = |part: &str| if part.bytes().all(|b| b.is_ascii_digit()) { part.parse::<u32>().ok() } else { None };
        let (index, count) = (number(index).ok_or_else(bad)?, number(count).ok_or_else(bad)?);
        if count == 0 || index == 0 || index > count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl Shard {
    /// Whether the pair is in this shard.
    pub fn holds(&self, account: &str, region: &str) -> bool {
        crate::support::stable_hash(&[account, region]) % u64::from(self.count) == u64::from(self.index - 1)
    }
}

/// The items of `shard` (all of them without one), in their order. `pair` names an item's
/// account and region.
pub fn select<T>(items: Vec<T>, shard: Option<Shard>, pair: impl Fn(&T) -> (&str, &str)) -> Vec<T> {
    match shard {
        None => items,
        Some(shard) => items.into_iter().filter(|item| { let (account, region) = pair(item); shard.holds(account, region) }).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn shard_syntax() {
        assert_eq!("2/3".parse::<Shard>(), Ok(Shard { index: 2, count: 3 }));
        assert_eq!("1/1".parse::<Shard>(), Ok(Shard { index: 1, count: 1 }));
        for bad in ["4/3", "0/0", "1/0", "0/3", "x/2", "2/x", "", "/", "1/", "/2", "2", "1/2/3", "-1/2", "+1/2", " 1/2", "99999999999/99999999999"] {
            let error = bad.parse::<Shard>().expect_err(bad);
            assert!(error.contains("is not a shard") && error.contains("I/N"), "{bad}: {error}");
        }
    }

    fn pairs(accounts: usize, regions: &[&str]) -> Vec<(String, String)> {
        (0..accounts).flat_map(|a| regions.iter().map(move |r| (format!("{:012}", 100_000_000_000u64 + a as u64 * 7919), r.to_string()))).collect()
    }

    #[test]
    fn a_thousand_accounts_in_17_regions_spread_over_ten_shards() {
        let all = pairs(1000, crate::scan::DEFAULT_REGIONS);
        let sizes: Vec<usize> = (1..=10).map(|i| select(all.clone(), Some(Shard { index: i, count: 10 }), |(a, r)| (a, r)).len()).collect();
        assert_eq!(sizes.iter().sum::<usize>(), all.len());
        // Binomial: 1,700 ± 39 (one standard deviation); six deviations either side would be a broken hash.
        assert!(sizes.iter().all(|&n| (1_460..=1_940).contains(&n)), "{sizes:?}");
    }

    proptest! {
        #[test]
        fn every_pair_is_in_exactly_one_shard(accounts in 1usize..40, regions in proptest::sample::subsequence(crate::scan::DEFAULT_REGIONS.to_vec(), 1..6), count in 1u32..12) {
            let all = pairs(accounts, &regions);
            let mut seen: Vec<(String, String)> = Vec::new();
            for index in 1..=count {
                let shard = select(all.clone(), Some(Shard { index, count }), |(a, r)| (a, r));
                // Order kept, and the same shard every time it is formed.
                prop_assert!(shard.windows(2).all(|w| all.iter().position(|p| *p == w[0]) < all.iter().position(|p| *p == w[1])));
                prop_assert_eq!(&shard, &select(all.clone(), Some(Shard { index, count }), |(a, r)| (a, r)));
                seen.extend(shard);
            }
            seen.sort();
            let mut expected = all.clone();
            expected.sort();
            prop_assert_eq!(seen, expected);
        }
    }
}
