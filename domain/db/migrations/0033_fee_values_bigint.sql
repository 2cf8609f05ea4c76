ALTER TABLE "fee_discounts" ALTER COLUMN "value" SET DATA TYPE bigint;--> statement-breakpoint
ALTER TABLE "fees" ALTER COLUMN "late_fee_value" SET DATA TYPE bigint;