//! Debug runs: which of the seller-interface debug cases (spec §8) a product
//! must pass before it is submitted, and how a run ended.

use super::ChargingMode;

string_enum!(
    /// Which debug cases a run covers. `period_product`: newInstance,
    /// refreshInstance RENEWAL, updateInstanceStatus FREEZE and UNFREEZE,
    /// releaseInstance (products with a monthly/yearly SKU);
    /// `one_time_product`: newInstance and releaseInstance (every other product).
    DebugCaseSet {
        PeriodProduct => "period_product",
        OneTimeProduct => "one_time_product",
        LicenseProduct => "license_product",
    }
);

impl DebugCaseSet {
    /// Whether a run of `self` also proves what `required` asks (the period
    /// cases include the one-time ones).
    pub fn covers(self, required: DebugCaseSet) -> bool {
        self == required || (self == DebugCaseSet::PeriodProduct && required == DebugCaseSet::OneTimeProduct)
    }

    /// The cases a product must pass, from the charging modes of its SKUs
    /// that are not retired: the period cases if any is a period SKU, else
    /// the one-time cases.
    pub fn for_modes(mut modes: impl Iterator<Item = ChargingMode>) -> DebugCaseSet {
        if modes.any(|m| m == ChargingMode::Period) {
            DebugCaseSet::PeriodProduct
        } else {
            DebugCaseSet::OneTimeProduct
        }
    }
}

string_enum!(
    /// The outcome of a run; `abandoned`: the node running it stopped before
    /// it finished.
    DebugRunStatus {
        Running => "running",
        Passed => "passed",
        Failed => "failed",
        Abandoned => "abandoned",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn period_cases_cover_one_time_ones_but_not_the_reverse() {
        use DebugCaseSet::*;
        assert!(PeriodProduct.covers(OneTimeProduct) && PeriodProduct.covers(PeriodProduct));
        assert!(OneTimeProduct.covers(OneTimeProduct) && !OneTimeProduct.covers(PeriodProduct));
        assert!(LicenseProduct.covers(LicenseProduct) && !PeriodProduct.covers(LicenseProduct));
        assert!(!LicenseProduct.covers(OneTimeProduct));
        assert_eq!(DebugCaseSet::for_modes([ChargingMode::OneTime, ChargingMode::Period].into_iter()), PeriodProduct);
        assert_eq!(DebugCaseSet::for_modes([ChargingMode::OnDemand].into_iter()), OneTimeProduct);
    }
}
