//! Server versions, parsed from the `build` info value.

use std::fmt;

/// A server build such as `8.1.2.0`; missing or non-numeric parts are 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub(crate) struct Version {
    pub(crate) major: u32,
    pub(crate) minor: u32,
    pub(crate) patch: u32,
    pub(crate) build: u32,
}

impl Version {
    /// Parses `major.minor.patch.build`, ignoring any suffix such as `-rc1`.
    pub(crate) fn parse(text: &str) -> Version {
        let mut parts = text.trim().split('.').map(|p| {
            let digits: String = p.chars().take_while(char::is_ascii_digit).collect();
            digits.parse::<u32>().unwrap_or(0)
        });
        Version {
            major: parts.next().unwrap_or(0),
            minor: parts.next().unwrap_or(0),
            patch: parts.next().unwrap_or(0),
            build: parts.next().unwrap_or(0),
        }
    }

    /// A version from its first three parts.
    #[cfg(test)]
    pub(crate) const fn new(major: u32, minor: u32, patch: u32) -> Version {
        Version {
            major,
            minor,
            patch,
            build: 0,
        }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}.{}.{}.{}",
            self.major, self.minor, self.patch, self.build
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_orders() {
        let v = Version::parse("8.1.2.0");
        assert_eq!(
            v,
            Version {
                major: 8,
                minor: 1,
                patch: 2,
                build: 0
            }
        );
        assert!(v >= Version::new(8, 1, 0));
        assert!(Version::parse("6.4.0.10") < v);
        assert_eq!(Version::parse("7.2.0-rc1"), Version::new(7, 2, 0));
        assert_eq!(Version::parse("garbage"), Version::default());
        assert_eq!(v.to_string(), "8.1.2.0");
    }
}
