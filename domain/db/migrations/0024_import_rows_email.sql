ALTER TABLE "import_rows" ADD COLUMN "email" text;--> statement-breakpoint
CREATE INDEX "import_rows_email_idx" ON "import_rows" USING btree ("email") WHERE "import_rows"."email" is not null;--> statement-breakpoint
-- rows staged before the column: their email cell, as staging now records it
UPDATE "import_rows" SET "email" = lower(trim("data"->>'email')) WHERE "data"->>'email' is not null AND trim("data"->>'email') <> '';
