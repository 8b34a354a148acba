//! The closed lists a referral chooses from, each with its wire names.

use serde::{Deserialize, Serialize};

/// A closed list with its wire names, parsed from text.
macro_rules! code_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $code:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn code(self) -> &'static str {
                match self { $($name::$variant => $code),+ }
            }
            pub fn parse(text: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|v| v.code() == text)
            }
            pub fn codes() -> String {
                Self::ALL.iter().map(|v| v.code()).collect::<Vec<_>>().join(", ")
            }
        }
    };
}

code_enum!(
    /// How much pain affects one part of life.
    ImpactLevel { None = "none", Mild = "mild", Moderate = "moderate", Severe = "severe" }
);

code_enum!(
    /// Red flags on the referral checklist: signs of serious pathology that a
    /// remote decision must not close without an explicit override.
    RedFlag {
        UnexplainedWeightLoss = "unexplained_weight_loss",
        HistoryOfCancer = "history_of_cancer",
        FeverOrSystemicIllness = "fever_or_systemic_illness",
        NewNeurologicalDeficit = "new_neurological_deficit",
        BladderOrBowelDysfunction = "bladder_or_bowel_dysfunction",
        SaddleAnaesthesia = "saddle_anaesthesia",
        NonMechanicalNightPain = "non_mechanical_night_pain",
        SignificantTrauma = "significant_trauma",
        Immunosuppression = "immunosuppression",
    }
);

code_enum!(
    PainSite {
        Head = "head",
        Face = "face",
        Neck = "neck",
        Shoulder = "shoulder",
        Arm = "arm",
        Hand = "hand",
        Chest = "chest",
        Abdomen = "abdomen",
        UpperBack = "upper_back",
        LowerBack = "lower_back",
        Pelvis = "pelvis",
        Hip = "hip",
        Leg = "leg",
        Knee = "knee",
        Foot = "foot",
        Widespread = "widespread",
    }
);

code_enum!(
    AccessibilityNeed {
        LargePrint = "large_print",
        EasyRead = "easy_read",
        Braille = "braille",
        Audio = "audio",
        BritishSignLanguage = "british_sign_language",
        Interpreter = "interpreter",
        WheelchairAccess = "wheelchair_access",
        HearingLoop = "hearing_loop",
    }
);

code_enum!(
    /// Why a referrer withdrew a referral.
    WithdrawReason {
        PatientRequest = "patient_request",
        ConditionResolved = "condition_resolved",
        ReferredElsewhere = "referred_elsewhere",
        SentInError = "sent_in_error",
        Other = "other",
    }
);
