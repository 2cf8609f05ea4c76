/**
 * Every problem code the API can answer with, and its status. A code without an entry here does not
 * compile (the `satisfies` below), so each context adds its codes when it adds its errors.
 */
export const problemCatalog = {
  VALIDATION_FAILED: { status: 400, title: "The request is not valid" },
  MALFORMED_JSON: { status: 400, title: "The request body is not valid JSON" },
  INVALID_CURSOR: { status: 400, title: "The pagination cursor is not valid" },
  INVALID_IDEMPOTENCY_KEY: { status: 400, title: "The Idempotency-Key header is not valid" },
  UNAUTHENTICATED: { status: 401, title: "Authentication is required" },
  FORBIDDEN: { status: 403, title: "You may not do this" },
  NOT_FOUND: { status: 404, title: "Not found" },
  ROUTE_NOT_FOUND: { status: 404, title: "No such route" },
  METHOD_NOT_ALLOWED: { status: 405, title: "Method not allowed on this route" },
  IDEMPOTENCY_KEY_IN_USE: { status: 409, title: "A request with this Idempotency-Key is still in progress" },
  PRECONDITION_FAILED: { status: 412, title: "The resource has changed since you read it" },
  PRECONDITION_REQUIRED: { status: 428, title: "Send the ETag you read as If-Match" },
  PAYLOAD_TOO_LARGE: { status: 413, title: "The request body is too large" },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, title: "Unsupported content type" },
  IDEMPOTENCY_KEY_REUSED: { status: 422, title: "This Idempotency-Key was used with a different request" },
  CONFLICT: { status: 409, title: "The request conflicts with the current state of the data" },
  UNPROCESSABLE: { status: 422, title: "The request breaks a rule the data must keep" },
  RATE_LIMITED: { status: 429, title: "Too many requests" },
  INTERNAL_ERROR: { status: 500, title: "Internal server error" },

  // identity
  EMAIL_TAKEN: { status: 409, title: "An account with this email address exists" },
  INVALID_CREDENTIALS: { status: 401, title: "The email address or password is not correct" },
  LOGIN_THROTTLED: { status: 429, title: "Too many failed sign-ins" },
  ACCOUNT_DISABLED: { status: 403, title: "The account is disabled" },
  INVALID_REFRESH_TOKEN: { status: 401, title: "The refresh token is not valid" },
  REFRESH_TOKEN_REUSED: { status: 401, title: "The refresh token was already used" },
  CURRENT_PASSWORD_INCORRECT: { status: 403, title: "The current password is not correct" },
  USER_NOT_FOUND: { status: 404, title: "No such user" },
  SESSION_NOT_FOUND: { status: 404, title: "No such session" },
  LAST_ADMIN: { status: 409, title: "At least one admin must remain" },
  AUTH_UNAVAILABLE: { status: 503, title: "Sessions cannot be checked right now" },

  // emailed account links (verification, password reset, account invitation) and what an unverified account may do
  TOKEN_INVALID: { status: 400, title: "The link is not valid" },
  TOKEN_USED: { status: 400, title: "The link was used already" },
  TOKEN_EXPIRED: { status: 400, title: "The link has expired" },
  EMAIL_NOT_VERIFIED: { status: 403, title: "Confirm your email address first" },
  EMAIL_ALREADY_VERIFIED: { status: 409, title: "The email address is confirmed already" },
  VERIFICATION_THROTTLED: { status: 429, title: "A confirmation email was sent recently" },
  PASSWORD_RESET_THROTTLED: { status: 429, title: "Too many password reset requests" },
  ACCOUNT_INVITATION_NOT_FOUND: { status: 404, title: "No such account invitation" },

  // two-factor sign-in and account lifecycle
  TWO_FACTOR_REQUIRED: { status: 403, title: "Sign in with a second factor first" },
  INVALID_TWO_FACTOR_CHALLENGE: { status: 401, title: "The sign-in challenge is not valid" },
  INVALID_TWO_FACTOR_CODE: { status: 401, title: "The code is not correct" },
  TWO_FACTOR_CODE_INCORRECT: { status: 403, title: "The code is not correct" },
  TWO_FACTOR_THROTTLED: { status: 429, title: "Too many wrong codes" },
  TWO_FACTOR_ALREADY_ENABLED: { status: 409, title: "Two-factor sign-in is already on" },
  TWO_FACTOR_NOT_PENDING: { status: 409, title: "No two-factor enrollment waits for confirmation" },
  TWO_FACTOR_NOT_ENABLED: { status: 409, title: "Two-factor sign-in is not on" },
  TWO_FACTOR_NOT_AVAILABLE: { status: 409, title: "This account signs in through an identity provider" },
  TWO_FACTOR_MANDATORY: { status: 409, title: "Your account must sign in with a second factor" },
  CANNOT_DEACTIVATE_SELF: { status: 409, title: "You cannot deactivate your own account" },

  // erasure (right to be forgotten)
  CANNOT_ERASE_ADMIN: { status: 409, title: "An admin cannot be erased; remove the admin role first" },
  USER_ALREADY_ERASED: { status: 409, title: "This user's personal data was erased already" },
  ERASURE_ALREADY_SCHEDULED: { status: 409, title: "An erasure of this user is scheduled already" },
  ERASURE_NOT_SCHEDULED: { status: 409, title: "No erasure of this user is scheduled" },
  ERASURE_NOT_FOUND: { status: 404, title: "No erasure was asked for this user" },
  ERASURE_CONFIRMATION_REQUIRED: { status: 400, title: "Confirm the erasure" },
  IMMEDIATE_ERASURE_ADMIN_ONLY: { status: 403, title: "Only an admin may erase at once" },

  // one-click unsubscribe links (RFC 8058)
  UNSUBSCRIBE_LINK_INVALID: { status: 400, title: "The unsubscribe link is not valid or has expired" },

  // catalog and content
  COURSE_NOT_FOUND: { status: 404, title: "No such course" },
  COURSE_CODE_TAKEN: { status: 409, title: "Another course has this code" },
  COURSE_ARCHIVED: { status: 409, title: "The course is archived" },
  INVALID_COURSE_SETTINGS: { status: 422, title: "These settings contradict each other" },
  INVALID_STATE_TRANSITION: { status: 409, title: "The course cannot move to that state from its current one" },
  PREREQUISITE_CYCLE: { status: 422, title: "Prerequisites cannot form a cycle" },
  LAST_INSTRUCTOR: { status: 409, title: "A course keeps at least one instructor" },
  MODULE_NOT_FOUND: { status: 404, title: "No such module" },
  LESSON_NOT_FOUND: { status: 404, title: "No such lesson" },
  REORDER_MISMATCH: { status: 422, title: "The new order must list every item exactly once" },
  CONTENT_HAS_LEARNER_WORK: { status: 409, title: "Learners have work in this content; hide it instead" },
  LESSON_NOT_A_FILE: { status: 409, title: "This lesson does not hold a file" },
  FILE_NOT_UPLOADED: { status: 409, title: "The file has not been uploaded" },
  FILE_MISMATCH: { status: 422, title: "The uploaded file does not match what was declared" },
  LESSON_LOCKED: { status: 403, title: "This lesson is not open to you yet" },

  // enrollment
  COURSE_NOT_PUBLISHED: { status: 409, title: "The course is not published" },
  ENROLLMENT_CLOSED: { status: 409, title: "Enrollment is closed" },
  COURSE_FULL: { status: 409, title: "The course is full" },
  ALREADY_ENROLLED: { status: 409, title: "Already enrolled" },
  PREREQUISITES_MISSING: { status: 409, title: "Prerequisite courses are not completed" },
  ENROLLMENT_NOT_FOUND: { status: 404, title: "No such enrollment" },
  NO_OPEN_OFFER: { status: 409, title: "There is no open seat offer" },
  OFFER_EXPIRED: { status: 410, title: "The seat offer has expired" },
  INVITATION_NOT_FOUND: { status: 404, title: "No such invitation" },
  INVITATION_EXPIRED: { status: 410, title: "The invitation has expired" },
  INVITATION_USED: { status: 409, title: "The invitation was used already" },
  INVITATION_EMAIL_MISMATCH: { status: 403, title: "The invitation is for another email address" },

  // assessments
  ASSESSMENT_NOT_FOUND: { status: 404, title: "No such assessment" },
  INVALID_ASSESSMENT_SETTINGS: { status: 422, title: "These assessment settings contradict each other" },
  INVALID_ITEM: { status: 422, title: "An item or its answer key is not consistent" },
  ASSESSMENT_NOT_AVAILABLE: { status: 409, title: "The assessment has not opened yet" },
  ASSESSMENT_LOCKED: { status: 409, title: "The assessment is closed" },
  ATTEMPTS_EXHAUSTED: { status: 409, title: "No attempts are left" },
  ATTEMPT_NOT_FOUND: { status: 404, title: "No such attempt" },
  ATTEMPT_CLOSED: { status: 409, title: "The attempt is closed" },
  POOL_EXHAUSTED: { status: 409, title: "A pool of the assessment no longer has enough items to draw" },
  DRAW_NOT_FOUND: { status: 404, title: "The attempt drew and shuffled nothing: it presents the assessment's items" },
  INVALID_ANSWER: { status: 422, title: "An answer does not fit its item" },
  GRADE_PENDING: { status: 409, title: "The grade waits for a grader" },
  GRADE_NOT_FOUND: { status: 404, title: "No such grade" },

  // rubrics (issue 20)
  RUBRIC_NOT_FOUND: { status: 404, title: "No such rubric" },
  INVALID_RUBRIC: { status: 422, title: "The rubric's criteria or levels are not consistent" },
  RUBRIC_LEVELS_UNORDERED: { status: 422, title: "A criterion's levels must go from the most points to the fewest, strictly" },
  RUBRIC_IN_USE: { status: 409, title: "Submissions were scored with this rubric, or an assessment uses it" },
  RUBRIC_LEVELS_IN_USE: { status: 409, title: "Scored submissions chose criteria or levels this change removes" },
  INVALID_RUBRIC_CHOICES: { status: 422, title: "The rubric choices do not fit the rubric" },

  // question banks and QTI (issue 20)
  QUESTION_BANK_NOT_FOUND: { status: 404, title: "No such question bank" },
  QUESTION_BANK_IN_USE: { status: 409, title: "An assessment's pool draws from this bank" },
  QUESTION_BANK_NOT_SHARED: { status: 422, title: "Only an administrator's shared bank is shared with courses" },
  BANK_ITEM_NOT_FOUND: { status: 404, title: "No such bank item" },
  BANK_ITEM_VERSION_NOT_FOUND: { status: 404, title: "The bank item has no such version" },
  BANK_ITEM_RETIRED: { status: 409, title: "The bank item is retired" },
  BANK_ITEM_TYPE_CHANGED: { status: 422, title: "A new version keeps the item's type" },
  BANK_IMPORT_INVALID: { status: 422, title: "The question bank file is not valid" },
  BANK_EXPORT_TOO_LARGE: { status: 422, title: "The question bank has more items than an export may hold" },
  BANK_IMPORT_TOO_LARGE: { status: 413, title: "The question bank file is larger than an import may be" },
  QTI_DOCTYPE_FORBIDDEN: { status: 422, title: "QTI documents may not declare a DOCTYPE" },
  QTI_INVALID: { status: 422, title: "The QTI package or item is not valid" },

  // AI question generation (issue 20)
  GENERATION_NOT_CONFIGURED: { status: 503, title: "No model is configured for question generation" },
  GENERATION_JOB_NOT_FOUND: { status: 404, title: "No such generation job" },
  GENERATION_DOCUMENT_NOT_FOUND: { status: 404, title: "No such generation document in this bank" },
  GENERATION_DOCUMENT_NOT_UPLOADED: { status: 409, title: "The document has not been uploaded, or was used by a job already" },
  GENERATION_DOCUMENT_MISMATCH: { status: 422, title: "The uploaded document does not match what was declared" },
  GENERATION_TOO_MANY_ITEMS: { status: 422, title: "A generation job asks for more items than it may" },
  GENERATION_SOURCE_EMPTY: { status: 422, title: "The source has no text to generate from" },
  DOCUMENT_TOO_LARGE: { status: 413, title: "The document is larger than generation takes" },
  GENERATION_NEEDS_COURSE: { status: 422, title: "A shared bank generates from a course's lesson, not from a document" },

  // webhooks
  WEBHOOK_URL_FORBIDDEN: { status: 422, title: "Webhooks may not target this address" },
  WEBHOOK_NOT_FOUND: { status: 404, title: "No such webhook" },
  DELIVERY_NOT_FOUND: { status: 404, title: "No such delivery" },
  WEBHOOK_INACTIVE: { status: 409, title: "The webhook endpoint is disabled or deleted" },
  SERVICE_UNAVAILABLE: { status: 503, title: "A dependency is unavailable" },

  // sections, groups and section-scoped staff
  SECTION_NOT_FOUND: { status: 404, title: "No such section" },
  SECTION_NAME_TAKEN: { status: 409, title: "The course has a section with this name" },
  SECTION_FULL: { status: 409, title: "The section is full" },
  SECTION_HAS_STAFF: { status: 409, title: "Staff are scoped to this section alone" },
  SECTION_OUT_OF_SCOPE: { status: 403, title: "You are scoped to other sections of this course" },
  GROUP_NOT_FOUND: { status: 404, title: "No such group" },
  GROUP_NAME_TAKEN: { status: 409, title: "The course has a group with this name" },
  NOT_A_LEARNER: { status: 422, title: "Not an active learner of this course" },
  NOT_COURSE_STAFF: { status: 404, title: "This user is not on the course's staff" },

  // attendance and self check-in (a session not found: CLASS_SESSION_NOT_FOUND, with the schedule's)
  ATTENDANCE_SESSION_NOT_STARTED: { status: 409, title: "The session has not started yet" },
  ATTENDANCE_SESSION_CANCELLED: { status: 409, title: "The session is cancelled" },
  ATTENDANCE_NOT_EXPECTED: { status: 422, title: "Some users are not learners expected at this session" },
  ATTENDANCE_REASON_REQUIRED: { status: 422, title: "The edit window has closed: a change needs a reason" },
  ATTENDANCE_RANGE_TOO_LARGE: { status: 422, title: "The report covers too many sessions: narrow the range" },
  CHECK_IN_DISABLED: { status: 409, title: "The course does not let learners check in themselves" },
  CHECK_IN_CLOSED: { status: 409, title: "Check-in is not open for this session" },
  CHECK_IN_CODE_INVALID: { status: 422, title: "The check-in code is wrong or has expired" },
  CHECK_IN_THROTTLED: { status: 429, title: "Too many wrong check-in codes" },
  CHECK_IN_ALREADY_MARKED: { status: 409, title: "Staff have marked your attendance at this session already" },

  // class schedule and calendar feeds
  CLASS_SESSION_NOT_FOUND: { status: 404, title: "No such class session" },
  CLASS_SESSION_CANCELLED: { status: 409, title: "The class session is cancelled" },
  CLASS_SESSION_HAS_ATTENDANCE: { status: 409, title: "Attendance was taken at this class session" },
  SCHEDULE_STAFF_NOT_IN_COURSE: { status: 422, title: "The session's staff member is not on the course's staff" },
  SCHEDULE_RANGE_INVALID: { status: 400, title: "The date range is not valid" },
  RECURRENCE_INVALID: { status: 422, title: "The recurrence rule is not valid" },
  RECURRENCE_TOO_LONG: { status: 422, title: "The recurrence rule does not end soon enough" },
  TIME_ZONE_UNKNOWN: { status: 422, title: "Unknown time zone" },
  CALENDAR_FEED_NOT_FOUND: { status: 404, title: "No calendar feed" },

  // leave applications
  LEAVE_NOT_FOUND: { status: 404, title: "No such leave application" },
  LEAVE_RANGE_INVALID: { status: 422, title: "The leave must end after it starts" },
  LEAVE_TOO_FAR_IN_PAST: { status: 422, title: "The leave starts too far in the past" },
  LEAVE_TOO_LONG: { status: 422, title: "The leave is longer than allowed" },
  LEAVE_OVERLAP: { status: 409, title: "You have leave over part of this range already" },
  LEAVE_NOT_STAFF: { status: 403, title: "Only course staff apply for leave as staff" },
  LEAVE_NOT_APPROVER: { status: 409, title: "Not yours to decide now: your own application, or (administrators) not escalated yet" },
  LEAVE_NOT_OPEN: { status: 409, title: "The leave application is decided, withdrawn or expired already" },

  // privacy requests
  EXPORT_IN_PROGRESS: { status: 409, title: "A data export of yours is still being prepared" },
  DATA_EXPORT_NOT_FOUND: { status: 404, title: "No such data export" },

  // bulk imports
  IMPORT_NOT_FOUND: { status: 404, title: "No such import" },
  IMPORT_FORBIDDEN: { status: 403, title: "You may not import this" },
  IMPORT_TOO_LARGE: { status: 413, title: "The file is larger than an import may be" },
  IMPORT_KIND_UNAVAILABLE: { status: 422, title: "This kind of import is not available" },
  IMPORT_WRONG_FILE_TYPE: { status: 422, title: "This kind of import takes another type of file" },
  IMPORT_FILE_NOT_UPLOADED: { status: 409, title: "The import's file has not been uploaded" },
  IMPORT_FILE_MISMATCH: { status: 422, title: "The uploaded file does not match what was declared" },
  IMPORT_ALREADY_STARTED: { status: 409, title: "The import was started already" },
  IMPORT_NOT_RUNNING: { status: 409, title: "The import is not running" },

  // course evaluations
  EVALUATION_TEMPLATE_NOT_FOUND: { status: 404, title: "No such evaluation template" },
  EVALUATION_TEMPLATE_IN_USE: { status: 409, title: "Evaluations use this template: its questions cannot change" },
  EVALUATION_TEMPLATE_ARCHIVED: { status: 409, title: "The evaluation template is archived" },
  EVALUATION_WINDOW_INVALID: { status: 422, title: "The evaluation must close after it opens, in the future, within a year" },
  EVALUATION_NOT_FOUND: { status: 404, title: "No such evaluation" },
  EVALUATION_NOT_LEARNER: { status: 403, title: "Only the course's learners answer its evaluations" },
  EVALUATION_NOT_OPEN: { status: 409, title: "The evaluation is not open" },
  EVALUATION_ALREADY_ANSWERED: { status: 409, title: "You have answered this evaluation already" },
  EVALUATION_ANSWERS_INVALID: { status: 422, title: "Some answers do not fit their questions" },
  EVALUATION_RESULTS_WITHHELD: { status: 409, title: "The evaluation's results are not shown yet" },

  // announcements and the inbox
  ANNOUNCEMENT_NOT_FOUND: { status: 404, title: "No such announcement" },
  ANNOUNCEMENT_TOO_LONG: { status: 422, title: "The announcement's body is longer than allowed" },
  ANNOUNCEMENT_SECTION_INVALID: { status: 422, title: "The course has no such section" },
  ANNOUNCEMENT_PUBLISH_AT_INVALID: { status: 422, title: "The publish time lies in the past or more than a year ahead" },
  ANNOUNCEMENT_PUBLISHED: { status: 409, title: "The announcement is published: only its title and body can change" },
  NOTIFICATION_NOT_FOUND: { status: 404, title: "No such notification" },

  // discussions
  DISCUSSION_TOPIC_NOT_FOUND: { status: 404, title: "No such discussion topic" },
  DISCUSSION_POST_NOT_FOUND: { status: 404, title: "No such discussion post" },
  DISCUSSION_TOPIC_LOCKED: { status: 409, title: "The discussion topic is locked" },
  DISCUSSION_PARENT_NOT_IN_TOPIC: { status: 422, title: "The post replied to is not in this topic" },
  DISCUSSION_EDIT_WINDOW_CLOSED: { status: 409, title: "The post can no longer be edited" },
  DISCUSSION_POST_DELETED: { status: 409, title: "The post was removed" },
  DISCUSSION_SEARCH_INVALID: { status: 422, title: "The search query is empty or too long" },
  DISCUSSION_RATE_LIMITED: { status: 429, title: "Too many posts: wait a moment" },
  MENTION_NOT_MEMBER: { status: 422, title: "A mentioned user is not a member of the course" },

  // SMS and push channels, phone verification
  SMS_NOT_CONFIGURED: { status: 503, title: "SMS is not available on this installation" },
  PUSH_NOT_CONFIGURED: { status: 503, title: "Push notifications are not available on this installation" },
  PUSH_ENDPOINT_NOT_ALLOWED: { status: 422, title: "The push endpoint must be a public https URL" },
  PUSH_SUBSCRIPTION_NOT_FOUND: { status: 404, title: "No such push subscription" },
  PHONE_NUMBER_INVALID: { status: 422, title: "The phone number must be a valid number in E.164 form (+ country code and number)" },
  PHONE_NOT_FOUND: { status: 404, title: "You have no phone number" },
  PHONE_ALREADY_VERIFIED: { status: 409, title: "The phone number is verified already" },
  PHONE_CODE_THROTTLED: { status: 429, title: "Too many verification codes sent: wait before asking again" },
  PHONE_CODE_INVALID: { status: 422, title: "The verification code is not correct" },
  PHONE_CODE_EXPIRED: { status: 409, title: "The verification code has expired: ask for a new one" },
  PHONE_CODE_ATTEMPTS_EXCEEDED: { status: 429, title: "Too many wrong codes: ask for a new one" },

  // payments (issue 19): checkout, the provider's webhook, manual payments, refunds
  INVOICE_NOT_FOUND: { status: 404, title: "No such invoice" },
  PAYMENT_NOT_FOUND: { status: 404, title: "No such payment" },
  CURRENCY_MISMATCH: { status: 422, title: "The currency is not the invoice's" },
  INVOICE_NOT_PAYABLE: { status: 409, title: "The invoice is paid or void" },
  PAYMENT_DUPLICATE: { status: 409, title: "A payment with this reference is already recorded for the invoice" },
  RECONCILIATION_PERIOD_TOO_LARGE: { status: 422, title: "The period holds more provider movements than one reconciliation reads" },
  CHECKOUT_IN_PROGRESS: { status: 409, title: "A checkout for this invoice is being made or may be being paid; try again shortly" },
  PAYMENT_AMOUNT_INVALID: { status: 422, title: "The amount is not a positive whole number of minor units" },
  REFUND_EXCEEDS_PAYMENT: { status: 422, title: "The refund is larger than what is left of the payment" },
  PAYMENT_PROVIDER_REFUSED: { status: 422, title: "The payment provider refused the request" },
  PAYMENTS_NOT_CONFIGURED: { status: 503, title: "Online payments are not available on this installation" },
  PAYMENT_PROVIDER_UNAVAILABLE: { status: 503, title: "The payment provider cannot be reached right now" },
  WEBHOOK_SIGNATURE_INVALID: { status: 400, title: "The webhook signature is missing, wrong or too old" },
  WEBHOOK_EVENT_UNKNOWN_INVOICE: { status: 422, title: "The event names no invoice of this installation" },

  // invoices and credit notes (issue 19)
  CREDIT_NOTE_TOO_LARGE: { status: 422, title: "The credit note is larger than what the invoice still asks for" },
  CREDIT_NOTE_NOT_FOUND: { status: 404, title: "No such credit note" },
  INVOICE_LINK_INVALID: { status: 404, title: "The invoice link is not valid or has expired" },

  // fees and discounts (issue 19)
  FEE_NOT_FOUND: { status: 404, title: "No such fee" },
  FEE_INVALID: { status: 422, title: "The fee's terms do not hold together" },
  FEE_INVOICED: { status: 409, title: "Invoices were issued for this fee: retire it and create a new one" },
  FEE_RETIRED: { status: 409, title: "The fee is retired" },
  FEE_DISCOUNT_INVALID: { status: 422, title: "The discount does not fit the fee" },
  FEE_DISCOUNT_EXISTS: { status: 409, title: "The learner has a discount on this fee already: revoke it first" },
  FEE_DISCOUNT_NOT_FOUND: { status: 404, title: "No such discount" },
  FEE_DISCOUNT_APPLIED: { status: 409, title: "The discount is on an issued invoice and cannot be revoked" },
  FEE_DISCOUNT_NOTHING_TO_CREDIT: { status: 409, title: "The learner's invoice asks for nothing the discount could take off" },
} as const satisfies Record<string, { status: number; title: string }>;

export type ProblemCode = keyof typeof problemCatalog;

export const problemType = (code: ProblemCode): string => `urn:ringlet:problem:${code.toLowerCase().replaceAll("_", "-")}`;
