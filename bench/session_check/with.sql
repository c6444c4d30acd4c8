-- The account as loaded now (services::users::find_active_in_session): by id,
-- and only while the token's session has an unrevoked refresh token.
SELECT * FROM users WHERE id = :user AND EXISTS (
  SELECT 1 FROM refresh_tokens
  WHERE family_id = :family AND user_id = :user AND revoked_at IS NULL);
