//! Enum values as the API spells them (`PREGNANCY`, `TEXT`), for messages
//! a client may show and for `extensions`: never Rust's own spelling
//! (`Pregnancy`, `Text`).

/// The GraphQL name of an enum value, e.g. `Contraindication::Pregnancy`
/// → `PREGNANCY`.
pub fn api_name<T: async_graphql::InputType>(value: &T) -> String {
    match value.to_value() {
        async_graphql::Value::Enum(name) => name.to_string(),
        other => other.to_string(),
    }
}

/// The GraphQL names of several enum values, comma-separated.
pub fn api_names<'v, T: async_graphql::InputType + 'v>(
    values: impl IntoIterator<Item = &'v T>,
) -> String {
    values
        .into_iter()
        .map(api_name)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{patient::ContactChannel, screening::Contraindication};

    #[test]
    fn values_are_spelled_as_in_the_schema() {
        assert_eq!(api_name(&Contraindication::Pregnancy), "PREGNANCY");
        assert_eq!(api_name(&ContactChannel::InPerson), "IN_PERSON");
        assert_eq!(
            api_names(&[Contraindication::Pregnancy, Contraindication::OpenWounds]),
            "PREGNANCY, OPEN_WOUNDS"
        );
    }
}
