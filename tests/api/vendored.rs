//! The patched crates under vendor/ answer exactly as upstream does.

use sea_orm::{ConnectionTrait, DbErr, Statement};

use crate::helpers::for_each_backend;

/// sea-orm's NULL error keeps its text (the column name as `Debug` quotes
/// it) after vendor/sea-orm stopped formatting it through `Debug` for plain
/// names, and a NULL still decodes as `None` into an `Option`.
#[tokio::test]
async fn a_null_column_reads_as_none_and_its_error_names_the_column_as_upstream() {
    for_each_backend(|app| async move {
        let backend = app.db.get_database_backend();
        let row = app
            .db
            .query_one_raw(Statement::from_string(
                backend,
                r#"SELECT NULL AS notes, NULL AS "odd""name", 'kept' AS plain,
                          NULL AS "Col_1", NULL AS "p_notes""#,
            ))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(row.try_get::<Option<String>>("", "notes").unwrap(), None);
        assert_eq!(
            row.try_get::<Option<String>>("", "odd\"name").unwrap(),
            None
        );
        assert_eq!(
            row.try_get::<Option<String>>("", "plain")
                .unwrap()
                .as_deref(),
            Some("kept")
        );
        // A related model's columns are read with a prefix (`p_` + `notes`).
        for (prefix, column, named) in [
            ("", "notes", r#""notes""#),
            ("", "Col_1", r#""Col_1""#),
            ("p_", "notes", r#""p_notes""#),
            ("", "odd\"name", r#""odd\"name""#),
        ] {
            match row.try_get::<String>(prefix, column) {
                Err(DbErr::Type(message)) => assert_eq!(
                    message,
                    format!("A null value was encountered while decoding {named}")
                ),
                other => panic!("{column}: expected a null-value type error, got {other:?}"),
            }
        }
        match row.try_get_by_index::<String>(0) {
            Err(DbErr::Type(message)) => {
                assert_eq!(message, "A null value was encountered while decoding 0")
            }
            other => panic!("column 0: expected a null-value type error, got {other:?}"),
        }
    })
    .await;
}
