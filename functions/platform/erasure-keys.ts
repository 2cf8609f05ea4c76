import type { ErasureKeys } from "../../domain/privacy/erasure.js";
import type { Settings } from "./settings.js";

/** The keys an erasure needs from the settings: every caller hands down the same ones. */
export const erasureKeys = (s: Settings): ErasureKeys => ({ evaluationReceiptKey: s.EVALUATION_RECEIPT_KEY });
