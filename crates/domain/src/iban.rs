//! IBANs (ISO 13616), French RIBs with their clé RIB, and BICs (ISO 9362).
//!
//! Validation of any country's IBAN (mod-97 check digits, per-country length and BBAN format
//! from the SWIFT IBAN registry) is delegated to the `iban_validate` crate, which tracks the
//! registry; what is specific to a French bank, building an IBAN from a RIB, lives here.

use std::fmt;

use iban::IbanLike as _;

use serde::{Deserialize, Serialize};

/// Why an IBAN, a RIB or a BIC was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum IbanError {
    /// Not a valid IBAN (characters, length for its country, BBAN format, or check digits).
    #[error("not a valid IBAN")]
    InvalidIban,
    /// A bank code or branch code that is not five digits, or an account number that is not
    /// eleven letters or digits.
    #[error("not a valid French RIB")]
    InvalidRib,
    /// Not an 8- or 11-character BIC.
    #[error("not a valid BIC")]
    InvalidBic,
}

/// A valid IBAN, stored in its electronic form (no spaces, upper case).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Iban(String);

impl Iban {
    /// Parses an IBAN in electronic (`FR7630006000011234567890189`) or pretty
    /// (`FR76 3000 6000 0112 3456 7890 189`) form; lower case letters are accepted.
    pub fn parse(text: &str) -> Result<Self, IbanError> {
        let electronic: String = text
            .chars()
            .filter(|c| *c != ' ')
            .map(|c| c.to_ascii_uppercase())
            .collect();
        let iban: iban::Iban = electronic.parse().map_err(|_| IbanError::InvalidIban)?;
        Ok(Iban(iban.electronic_str().to_owned()))
    }

    /// The electronic form: no spaces.
    pub fn electronic(&self) -> &str {
        &self.0
    }

    /// The pretty form: groups of four characters separated by spaces.
    pub fn pretty(&self) -> String {
        let chars: Vec<char> = self.0.chars().collect();
        chars
            .chunks(4)
            .map(|group| group.iter().collect::<String>())
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The ISO 3166 country code (the first two letters).
    pub fn country_code(&self) -> &str {
        &self.0[..2]
    }

    /// A form safe for logs and support screens: country, check digits and the last four
    /// characters only (`FR76…0189`).
    pub fn masked(&self) -> String {
        let tail = &self.0[self.0.len() - 4..];
        format!("{}…{tail}", &self.0[..4])
    }
}

impl fmt::Display for Iban {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Iban {
    type Error = IbanError;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        Iban::parse(&text)
    }
}

impl From<Iban> for String {
    fn from(iban: Iban) -> Self {
        iban.0
    }
}

/// A French "relevé d'identité bancaire": bank code, branch code, account number and clé RIB.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrenchRib {
    bank_code: String,
    branch_code: String,
    account_number: String,
}

impl FrenchRib {
    /// Builds a RIB from a five-digit bank code ("code banque"), a five-digit branch code
    /// ("code guichet") and an eleven-character account number (digits or upper-case letters).
    pub fn new(
        bank_code: &str,
        branch_code: &str,
        account_number: &str,
    ) -> Result<Self, IbanError> {
        let five_digits = |code: &str| code.len() == 5 && code.bytes().all(|b| b.is_ascii_digit());
        let account_ok = account_number.len() == 11
            && account_number
                .bytes()
                .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase());
        if !five_digits(bank_code) || !five_digits(branch_code) || !account_ok {
            return Err(IbanError::InvalidRib);
        }
        Ok(FrenchRib {
            bank_code: bank_code.to_owned(),
            branch_code: branch_code.to_owned(),
            account_number: account_number.to_owned(),
        })
    }

    /// The two-digit clé RIB: `97 - ((89 × bank + 15 × branch + 3 × account) mod 97)`, where the
    /// account number's letters count as digits (A, J → 1; B, K, S → 2; … I, R, Z → 9).
    pub fn key(&self) -> u8 {
        let bank = mod97_of_digits(self.bank_code.bytes());
        let branch = mod97_of_digits(self.branch_code.bytes());
        let account = mod97_of_digits(self.account_number.bytes().map(rib_letter_to_digit));
        let weighted = (89 * bank + 15 * branch + 3 * account) % 97;
        // `weighted` is below 97, so the key is in 1..=97 and fits a u8.
        u8::try_from(97 - weighted).unwrap_or(0)
    }

    /// The BBAN: bank code, branch code, account number and clé RIB (23 characters).
    pub fn bban(&self) -> String {
        format!(
            "{}{}{}{:02}",
            self.bank_code,
            self.branch_code,
            self.account_number,
            self.key()
        )
    }

    /// The French IBAN for this RIB: `FR` + ISO 13616 check digits + BBAN.
    pub fn to_iban(&self) -> Iban {
        let bban = self.bban();
        let check_digits = 98 - mod97_of_digits(iban_digits(&format!("{bban}FR00")).into_iter());
        Iban(format!("FR{check_digits:02}{bban}"))
    }
}

/// Maps a RIB account-number character to its digit (letters per the Banque de France table).
fn rib_letter_to_digit(byte: u8) -> u8 {
    match byte {
        b'0'..=b'9' => byte,
        b'A' | b'J' => b'1',
        b'B' | b'K' | b'S' => b'2',
        b'C' | b'L' | b'T' => b'3',
        b'D' | b'M' | b'U' => b'4',
        b'E' | b'N' | b'V' => b'5',
        b'F' | b'O' | b'W' => b'6',
        b'G' | b'P' | b'X' => b'7',
        b'H' | b'Q' | b'Y' => b'8',
        _ => b'9',
    }
}

/// The ISO 13616 digit string of an IBAN rearrangement: letters become two digits (A = 10).
fn iban_digits(text: &str) -> Vec<u8> {
    let mut digits = Vec::with_capacity(text.len() * 2);
    for byte in text.bytes() {
        if byte.is_ascii_digit() {
            digits.push(byte);
        } else {
            let value = byte - b'A' + 10;
            digits.push(b'0' + value / 10);
            digits.push(b'0' + value % 10);
        }
    }
    digits
}

/// The remainder modulo 97 of a (long) string of ASCII digits, digit by digit.
fn mod97_of_digits(digits: impl Iterator<Item = u8>) -> u32 {
    digits.fold(0, |remainder, digit| {
        (remainder * 10 + u32::from(digit - b'0')) % 97
    })
}

/// A Business Identifier Code (ISO 9362): 8 or 11 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Bic(String);

impl Bic {
    /// Parses a BIC: 4 letters (institution), 2 letters (country), 2 letters or digits
    /// (location), and optionally 3 letters or digits (branch).
    pub fn parse(text: &str) -> Result<Self, IbanError> {
        let bytes = text.as_bytes();
        let alnum = |b: &u8| b.is_ascii_uppercase() || b.is_ascii_digit();
        let valid = matches!(bytes.len(), 8 | 11)
            && bytes[..6].iter().all(u8::is_ascii_uppercase)
            && bytes[6..].iter().all(alnum);
        if !valid {
            return Err(IbanError::InvalidBic);
        }
        Ok(Bic(text.to_owned()))
    }

    /// The BIC as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Bic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Bic {
    type Error = IbanError;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        Bic::parse(&text)
    }
}

impl From<Bic> for String {
    fn from(bic: Bic) -> Self {
        bic.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_known_french_rib_gives_its_published_key_and_iban() {
        // The Banque de France's own published example RIB.
        let rib = FrenchRib::new("30001", "00794", "12345678901").map_err(|e| e.to_string());
        assert_eq!(rib.as_ref().map(FrenchRib::key), Ok(85));
        assert_eq!(
            rib.map(|r| r.to_iban().electronic().to_owned()),
            Ok("FR7630001007941234567890185".to_owned())
        );
    }

    #[test]
    fn letters_in_an_account_number_count_as_their_rib_digits() {
        let with_letters = FrenchRib::new("30001", "00794", "A2345678901");
        let with_digits = FrenchRib::new("30001", "00794", "12345678901");
        assert_eq!(with_letters.map(|r| r.key()), with_digits.map(|r| r.key()));
    }

    #[test]
    fn ibans_of_other_countries_validate_with_their_own_lengths() {
        for text in [
            "DE89370400440532013000",
            "GB29 NWBK 6016 1331 9268 19",
            "BE68539007547034",
            "CH9300762011623852957",
            "fr7630006000011234567890189",
        ] {
            assert!(Iban::parse(text).is_ok(), "{text}");
        }
        for text in [
            "DE8937040044053201300",
            "GB29NWBK60161331926818",
            "XX00",
            "",
        ] {
            assert_eq!(Iban::parse(text), Err(IbanError::InvalidIban), "{text}");
        }
    }

    #[test]
    fn pretty_and_masked_forms() {
        let iban = Iban::parse("FR7630006000011234567890189").map_err(|e| e.to_string());
        assert_eq!(
            iban.as_ref().map(Iban::pretty),
            Ok("FR76 3000 6000 0112 3456 7890 189".to_owned())
        );
        assert_eq!(iban.map(|i| i.masked()), Ok("FR76…0189".to_owned()));
    }

    #[test]
    fn bics_have_eight_or_eleven_characters() {
        assert!(Bic::parse("COFRFRPP").is_ok());
        assert!(Bic::parse("BNPAFRPPXXX").is_ok());
        for text in ["COFRFRP", "cofrfrpp", "C0FRFRPP", "COFRFRPPXX"] {
            assert_eq!(Bic::parse(text), Err(IbanError::InvalidBic), "{text}");
        }
    }

    fn digits(len: usize) -> impl Strategy<Value = String> {
        proptest::collection::vec(0u8..10, len)
            .prop_map(|ds| ds.into_iter().map(|d| char::from(b'0' + d)).collect())
    }

    fn any_rib() -> impl Strategy<Value = FrenchRib> {
        (digits(5), digits(5), digits(11))
            .prop_filter_map("valid RIB", |(bank, branch, account)| {
                FrenchRib::new(&bank, &branch, &account).ok()
            })
    }

    proptest! {
        #[test]
        fn every_generated_iban_validates(rib in any_rib()) {
            let iban = rib.to_iban();
            prop_assert_eq!(Iban::parse(iban.electronic()), Ok(iban.clone()));
            prop_assert_eq!(iban.electronic().len(), 27);
            // The clé RIB makes the whole RIB ≡ 0 (mod 97), the Banque de France's own check.
            let bban = rib.bban();
            prop_assert_eq!(mod97_of_digits(bban.bytes().map(rib_letter_to_digit)), 0);
        }

        #[test]
        fn changing_any_one_digit_is_detected(
            rib in any_rib(),
            position in 2usize..27,
            delta in 1u8..10,
        ) {
            let mut bytes = rib.to_iban().electronic().as_bytes().to_vec();
            bytes[position] = b'0' + (bytes[position] - b'0' + delta) % 10;
            let tampered = String::from_utf8(bytes).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(Iban::parse(&tampered), Err(IbanError::InvalidIban));
        }

        #[test]
        fn swapping_two_adjacent_different_digits_is_detected(
            rib in any_rib(),
            position in 2usize..26,
        ) {
            let mut bytes = rib.to_iban().electronic().as_bytes().to_vec();
            prop_assume!(bytes[position] != bytes[position + 1]);
            bytes.swap(position, position + 1);
            let tampered = String::from_utf8(bytes).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(Iban::parse(&tampered), Err(IbanError::InvalidIban));
        }
    }
}
