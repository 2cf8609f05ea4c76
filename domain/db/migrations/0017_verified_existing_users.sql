-- Accounts made before email verification existed were never asked to prove their address: they keep every right
-- they had, so they count as verified from the moment they were created.
UPDATE "users" SET "email_verified_at" = "created_at" WHERE "email_verified_at" IS NULL;
