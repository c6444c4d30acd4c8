-- The account as loaded before issue 16: by id only.
SELECT * FROM users WHERE id = :user;
