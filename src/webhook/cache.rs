//! Digests whose signatures were verified recently, so that Config Sync's reconciles (and the
//! second replica's) cost no registry round trip.
//!
//! Bounded by `quick_cache` (a small, well-kept concurrent cache with no background threads)
//! holding each entry's deadline: expiry is checked on read, which is all a TTL needs here.
//! Only successes are kept: an image signed after a denial is allowed at the next attempt.

use std::time::{Duration, Instant};

use quick_cache::sync::Cache;

pub struct VerifiedCache {
    /// `None` when caching is off (`--cache-size 0` or `--cache-ttl 0`).
    entries: Option<Cache<String, Instant>>,
    ttl: Duration,
}

impl VerifiedCache {
    pub fn new(capacity: usize, ttl: Duration) -> VerifiedCache {
        let entries = (capacity > 0 && !ttl.is_zero()).then(|| Cache::new(capacity));
        VerifiedCache { entries, ttl }
    }

    /// Whether `name` (`registry/repository@sha256:…`) was verified less than the TTL ago.
    pub fn contains(&self, name: &str) -> bool {
        let Some(entries) = &self.entries else {
            return false;
        };
        match entries.get(name) {
            Some(deadline) if Instant::now() < deadline => true,
            Some(_) => {
                entries.remove(name);
                false
            }
            None => false,
        }
    }

    pub fn insert(&self, name: String) {
        if let Some(entries) = &self.entries {
            entries.insert(name, Instant::now() + self.ttl);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_until_the_ttl_and_within_the_bound() {
        let cache = VerifiedCache::new(2, Duration::from_secs(60));
        cache.insert("a".into());
        assert!(cache.contains("a"));
        assert!(!cache.contains("b"));
        for i in 0..100 {
            cache.insert(format!("x{i}"));
        }
        let kept = (0..100)
            .filter(|i| cache.contains(&format!("x{i}")))
            .count();
        assert!(kept <= 2, "bounded: {kept} entries kept");
    }

    #[test]
    fn expired_entries_are_forgotten() {
        let cache = VerifiedCache::new(10, Duration::from_nanos(1));
        cache.insert("a".into());
        // The deadline is 1 ns away; any later read is past it.
        let start = Instant::now();
        while start.elapsed() < Duration::from_nanos(2) {}
        assert!(!cache.contains("a"));
    }

    #[test]
    fn size_or_ttl_zero_turns_it_off() {
        for cache in [
            VerifiedCache::new(0, Duration::from_secs(60)),
            VerifiedCache::new(10, Duration::ZERO),
        ] {
            cache.insert("a".into());
            assert!(!cache.contains("a"));
        }
    }
}
