//! Which of the 4096 partitions a foreground scan or query reads.

use crate::{Error, Result};

/// Number of partitions in every namespace.
pub(crate) const PARTITIONS: u16 = 4096;

/// A contiguous range of partitions: all of them (the default), a range, or one.
///
/// # Examples
/// ```
/// use aerospike_blocking::query::PartitionFilter;
/// let first_quarter = PartitionFilter::range(0, 1024);
/// assert_eq!(first_quarter.count(), 1024);
/// assert_eq!(PartitionFilter::all().count(), 4096);
/// assert_eq!(PartitionFilter::id(4095).begin(), 4095);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartitionFilter {
    begin: u16,
    count: u16,
}

impl Default for PartitionFilter {
    fn default() -> Self {
        PartitionFilter::all()
    }
}

impl PartitionFilter {
    /// Every partition.
    ///
    /// ```
    /// use aerospike_blocking::query::PartitionFilter;
    /// let all = PartitionFilter::all();
    /// assert_eq!((all.begin(), all.count()), (0, 4096));
    /// ```
    pub fn all() -> Self {
        PartitionFilter {
            begin: 0,
            count: PARTITIONS,
        }
    }

    /// `count` partitions starting at `begin`. Checked when the query runs:
    /// the range must lie inside `0..4096` and not be empty.
    ///
    /// ```
    /// use aerospike_blocking::query::PartitionFilter;
    /// let r = PartitionFilter::range(100, 28);
    /// assert_eq!((r.begin(), r.count()), (100, 28));
    /// ```
    pub fn range(begin: u16, count: u16) -> Self {
        PartitionFilter { begin, count }
    }

    /// Partition `id` alone.
    ///
    /// ```
    /// use aerospike_blocking::query::PartitionFilter;
    /// let one = PartitionFilter::id(4095);
    /// assert_eq!((one.begin(), one.count()), (4095, 1));
    /// ```
    pub fn id(id: u16) -> Self {
        PartitionFilter {
            begin: id,
            count: 1,
        }
    }

    /// The first partition.
    ///
    /// ```
    /// use aerospike_blocking::query::PartitionFilter;
    /// assert_eq!(PartitionFilter::range(7, 3).begin(), 7);
    /// ```
    pub fn begin(&self) -> u16 {
        self.begin
    }

    /// How many partitions.
    ///
    /// ```
    /// use aerospike_blocking::query::PartitionFilter;
    /// assert_eq!(PartitionFilter::range(7, 3).count(), 3);
    /// ```
    pub fn count(&self) -> u16 {
        self.count
    }

    /// The partition ids, after checking the range.
    pub(crate) fn partitions(&self) -> Result<std::ops::Range<u16>> {
        let end = u32::from(self.begin) + u32::from(self.count);
        if self.count == 0 || end > u32::from(PARTITIONS) {
            return Err(Error::invalid(format!(
                "partition range {}+{} must be non-empty and inside 0..{PARTITIONS}",
                self.begin, self.count
            )));
        }
        Ok(self.begin..end as u16)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_checked() {
        assert_eq!(PartitionFilter::all().partitions().unwrap(), 0..4096);
        assert_eq!(PartitionFilter::id(4095).partitions().unwrap(), 4095..4096);
        assert!(PartitionFilter::range(4000, 97).partitions().is_err());
        assert!(PartitionFilter::range(0, 0).partitions().is_err());
    }
}
