/** Email templates by key and locale; `{{name}}` is replaced with a value (HTML-escaped in the HTML part). */
export interface Template {
  subject: string;
  /** Paragraphs of plain text; the HTML part is made from the same paragraphs. */
  paragraphs: string[];
  action?: { label: string; url: string };
}

export const templates = {
  welcome: {
    en: {
      subject: "Welcome to Ringlet, {{name}}",
      paragraphs: ["Hello {{name}},", "your Ringlet account is ready. Find a course in the catalog and start learning."],
      action: { label: "Browse courses", url: "{{appUrl}}/courses" },
    },
    es: {
      subject: "Te damos la bienvenida a Ringlet, {{name}}",
      paragraphs: ["Hola {{name}}:", "tu cuenta de Ringlet está lista. Busca un curso en el catálogo y empieza a aprender."],
      action: { label: "Ver cursos", url: "{{appUrl}}/courses" },
    },
  },
  // Account emails carry a single-use link (except password-changed): recorded directly, never through an event.
  "verify-email": {
    en: {
      subject: "Confirm your email address for Ringlet",
      paragraphs: ["Hello {{name}},", "please confirm that this address is yours. The link works once, until {{expiresAt}}. If you did not create a Ringlet account, ignore this email."],
      action: { label: "Confirm the address", url: "{{appUrl}}/verify-email?token={{token}}" },
    },
    es: {
      subject: "Confirma tu dirección de correo para Ringlet",
      paragraphs: ["Hola {{name}}:", "confirma que esta dirección es tuya. El enlace funciona una vez, hasta el {{expiresAt}}. Si no has creado una cuenta en Ringlet, ignora este correo."],
      action: { label: "Confirmar la dirección", url: "{{appUrl}}/verify-email?token={{token}}" },
    },
  },
  "password-reset": {
    en: {
      subject: "Reset your Ringlet password",
      paragraphs: ["Hello {{name}},", "someone asked to reset the password of your Ringlet account. The link works once, until {{expiresAt}}. If it was not you, ignore this email: your password stays as it is."],
      action: { label: "Choose a new password", url: "{{appUrl}}/reset-password?token={{token}}" },
    },
    es: {
      subject: "Restablece tu contraseña de Ringlet",
      paragraphs: ["Hola {{name}}:", "alguien ha pedido restablecer la contraseña de tu cuenta de Ringlet. El enlace funciona una vez, hasta el {{expiresAt}}. Si no has sido tú, ignora este correo: tu contraseña no cambia."],
      action: { label: "Elegir una contraseña nueva", url: "{{appUrl}}/reset-password?token={{token}}" },
    },
  },
  "password-changed": {
    en: {
      subject: "Your Ringlet password was changed",
      paragraphs: ["Hello {{name}},", "the password of your Ringlet account was changed on {{changedAt}}, and your other sessions were signed out.", "If you did not do this, reset your password now and tell your administrator."],
      action: { label: "Reset the password", url: "{{appUrl}}/forgot-password" },
    },
    es: {
      subject: "Se ha cambiado tu contraseña de Ringlet",
      paragraphs: ["Hola {{name}}:", "la contraseña de tu cuenta de Ringlet se cambió el {{changedAt}} y se cerraron tus otras sesiones.", "Si no has sido tú, restablece la contraseña ahora y avisa a tu administrador."],
      action: { label: "Restablecer la contraseña", url: "{{appUrl}}/forgot-password" },
    },
  },
  // Sent when the second factor of an account changes, so its owner notices a change they did not make.
  "two-factor-enabled": {
    en: {
      subject: "Two-factor sign-in is on for your Ringlet account",
      paragraphs: ["Hello {{name}},", "two-factor sign-in was turned on for your Ringlet account on {{changedAt}}: signing in now asks for a code from your authenticator app.", "If you did not do this, tell your administrator."],
    },
    es: {
      subject: "El inicio de sesión en dos pasos está activado en tu cuenta de Ringlet",
      paragraphs: ["Hola {{name}}:", "el {{changedAt}} se activó el inicio de sesión en dos pasos en tu cuenta de Ringlet: ahora, al iniciar sesión, se pide un código de tu aplicación de autenticación.", "Si no has sido tú, avisa a tu administrador."],
    },
  },
  "two-factor-disabled": {
    en: {
      subject: "Two-factor sign-in is off for your Ringlet account",
      paragraphs: ["Hello {{name}},", "two-factor sign-in was turned off for your Ringlet account on {{changedAt}}, by you or by an administrator; your password alone signs you in now.", "If you did not expect this, tell your administrator."],
    },
    es: {
      subject: "El inicio de sesión en dos pasos está desactivado en tu cuenta de Ringlet",
      paragraphs: ["Hola {{name}}:", "el {{changedAt}} se desactivó el inicio de sesión en dos pasos en tu cuenta de Ringlet, por ti o por un administrador; ahora basta con tu contraseña para iniciar sesión.", "Si no lo esperabas, avisa a tu administrador."],
    },
  },
  "two-factor-code-replayed": {
    en: {
      subject: "A sign-in code of your Ringlet account was used twice",
      paragraphs: ["Hello {{name}},", "on {{usedAt}} someone offered a two-factor code of your Ringlet account that had been used already; it was refused.", "If that was not you, someone may know your password and see your authenticator: change your password and tell your administrator."],
    },
    es: {
      subject: "Un código de inicio de sesión de tu cuenta de Ringlet se usó dos veces",
      paragraphs: ["Hola {{name}}:", "el {{usedAt}} alguien presentó un código de dos pasos de tu cuenta de Ringlet que ya se había usado; se rechazó.", "Si no fuiste tú, alguien podría conocer tu contraseña y ver tu autenticador: cambia tu contraseña y avisa a tu administrador."],
    },
  },
  "account-invitation": {
    en: {
      subject: "You are invited to Ringlet",
      paragraphs: ["Hello {{name}},", "an administrator invited you to Ringlet. Choose a password to create your account; the link works once, until {{expiresAt}}."],
      action: { label: "Create your account", url: "{{appUrl}}/accept-invitation?token={{token}}" },
    },
    es: {
      subject: "Te han invitado a Ringlet",
      paragraphs: ["Hola {{name}}:", "un administrador te ha invitado a Ringlet. Elige una contraseña para crear tu cuenta; el enlace funciona una vez, hasta el {{expiresAt}}."],
      action: { label: "Crear tu cuenta", url: "{{appUrl}}/accept-invitation?token={{token}}" },
    },
  },
  enrolled: {
    en: {
      subject: "You are enrolled in {{course}}",
      paragraphs: ["Hello {{name}},", "you are enrolled in {{course}}. Your first lessons are waiting."],
      action: { label: "Open the course", url: "{{appUrl}}/courses/{{courseId}}" },
    },
    es: {
      subject: "Te has inscrito en {{course}}",
      paragraphs: ["Hola {{name}}:", "ya estás inscrito en {{course}}. Tus primeras lecciones te esperan."],
      action: { label: "Abrir el curso", url: "{{appUrl}}/courses/{{courseId}}" },
    },
  },
  waitlisted: {
    en: {
      subject: "You are on the waitlist for {{course}}",
      paragraphs: ["Hello {{name}},", "{{course}} is full. You are number {{position}} in line; we will write as soon as a seat is yours."],
    },
    es: {
      subject: "Estás en la lista de espera de {{course}}",
      paragraphs: ["Hola {{name}}:", "{{course}} está completo. Eres el número {{position}} de la lista; te escribiremos en cuanto tengas plaza."],
    },
  },
  "seat-offered": {
    en: {
      subject: "A seat in {{course}} is yours to take",
      paragraphs: ["Hello {{name}},", "a seat in {{course}} has opened for you. Take it before {{expiresAt}}, or it goes to the next in line."],
      action: { label: "Take the seat", url: "{{appUrl}}/courses/{{courseId}}/offer" },
    },
    es: {
      subject: "Tienes una plaza en {{course}}",
      paragraphs: ["Hola {{name}}:", "se ha liberado una plaza en {{course}} para ti. Acéptala antes del {{expiresAt}} o pasará a la siguiente persona."],
      action: { label: "Aceptar la plaza", url: "{{appUrl}}/courses/{{courseId}}/offer" },
    },
  },
  invitation: {
    en: {
      subject: "You are invited to {{course}}",
      paragraphs: ["Hello,", "you have been invited to join {{course}} on Ringlet. The invitation is valid until {{expiresAt}}."],
      action: { label: "Accept the invitation", url: "{{appUrl}}/invitations/accept?token={{token}}" },
    },
    es: {
      subject: "Te han invitado a {{course}}",
      paragraphs: ["Hola:", "te han invitado a unirte a {{course}} en Ringlet. La invitación es válida hasta el {{expiresAt}}."],
      action: { label: "Aceptar la invitación", url: "{{appUrl}}/invitations/accept?token={{token}}" },
    },
  },
  "due-reminder": {
    en: {
      subject: "{{assessment}} is due {{dueAt}}",
      paragraphs: ["Hello {{name}},", "{{assessment}} in {{course}} is due {{dueAt}}, and we have not seen your submission yet."],
      action: { label: "Open the course", url: "{{appUrl}}/courses/{{courseId}}" },
    },
    es: {
      subject: "{{assessment}} vence el {{dueAt}}",
      paragraphs: ["Hola {{name}}:", "{{assessment}} de {{course}} vence el {{dueAt}} y aún no hemos recibido tu entrega."],
      action: { label: "Abrir el curso", url: "{{appUrl}}/courses/{{courseId}}" },
    },
  },
  // Invoice dunning (the finance-reminders timer): transactional, no opt-out.
  "invoice-due-soon": {
    en: {
      subject: "Invoice {{number}}: {{amount}} due {{dueAt}}",
      paragraphs: ["Hello {{name}},", "instalment {{seq}} of invoice {{number}} for {{course}}, {{amount}}, is due {{dueAt}}. Paying on time avoids a late fee."],
      action: { label: "View the invoice", url: "{{appUrl}}/invoices/{{invoiceId}}" },
    },
    es: {
      subject: "Factura {{number}}: {{amount}} vence el {{dueAt}}",
      paragraphs: ["Hola {{name}}:", "el plazo {{seq}} de la factura {{number}} de {{course}}, {{amount}}, vence el {{dueAt}}. Pagar a tiempo evita un recargo por demora."],
      action: { label: "Ver la factura", url: "{{appUrl}}/invoices/{{invoiceId}}" },
    },
  },
  "invoice-overdue": {
    en: {
      subject: "Invoice {{number}} is overdue",
      paragraphs: ["Hello {{name}},", "instalment {{seq}} of invoice {{number}} for {{course}} was due {{dueAt}} and {{amount}} is still unpaid. Please pay it as soon as you can."],
      action: { label: "Pay the invoice", url: "{{appUrl}}/invoices/{{invoiceId}}" },
    },
    es: {
      subject: "La factura {{number}} está vencida",
      paragraphs: ["Hola {{name}}:", "el plazo {{seq}} de la factura {{number}} de {{course}} vencía el {{dueAt}} y aún quedan {{amount}} por pagar. Págalo lo antes posible."],
      action: { label: "Pagar la factura", url: "{{appUrl}}/invoices/{{invoiceId}}" },
    },
  },
  "invoice-overdue-late-fee": {
    en: {
      subject: "Invoice {{number}} is overdue: a late fee was added",
      paragraphs: ["Hello {{name}},", "instalment {{seq}} of invoice {{number}} for {{course}} was due {{dueAt}}. A late fee of {{lateFee}} was added, and {{amount}} is now unpaid. Please pay it as soon as you can."],
      action: { label: "Pay the invoice", url: "{{appUrl}}/invoices/{{invoiceId}}" },
    },
    es: {
      subject: "La factura {{number}} está vencida: se añadió un recargo",
      paragraphs: ["Hola {{name}}:", "el plazo {{seq}} de la factura {{number}} de {{course}} vencía el {{dueAt}}. Se añadió un recargo por demora de {{lateFee}} y ahora quedan {{amount}} por pagar. Págalo lo antes posible."],
      action: { label: "Pagar la factura", url: "{{appUrl}}/invoices/{{invoiceId}}" },
    },
  },
  "enrollment-suspended": {
    en: {
      subject: "Your enrollment in {{course}} is suspended",
      paragraphs: ["Hello {{name}},", "your enrollment in {{course}} is suspended because instalment {{seq}} of invoice {{number}} is overdue ({{amount}} unpaid). Your seat is kept: paying the overdue amount gives you access again straight away."],
      action: { label: "Pay the invoice", url: "{{appUrl}}/invoices/{{invoiceId}}" },
    },
    es: {
      subject: "Tu inscripción en {{course}} está suspendida",
      paragraphs: ["Hola {{name}}:", "tu inscripción en {{course}} está suspendida porque el plazo {{seq}} de la factura {{number}} está vencido ({{amount}} por pagar). Conservas tu plaza: al pagar lo vencido recuperas el acceso de inmediato."],
      action: { label: "Pagar la factura", url: "{{appUrl}}/invoices/{{invoiceId}}" },
    },
  },
  "seat-held": {
    en: {
      subject: "Your seat in {{course}} is held until {{dueAt}}",
      paragraphs: ["Hello {{name}},", "your seat in {{course}} is held until {{dueAt}}: pay to keep it. Unpaid by then, it goes to the next in line. Your invoice follows in a separate email."],
      action: { label: "See your invoices", url: "{{appUrl}}/invoices" },
    },
    es: {
      subject: "Tu plaza en {{course}} está reservada hasta el {{dueAt}}",
      paragraphs: ["Hola {{name}}:", "tu plaza en {{course}} está reservada hasta el {{dueAt}}: paga para conservarla. Si no está pagada para entonces, pasará a la siguiente persona. La factura te llega en otro correo."],
      action: { label: "Ver tus facturas", url: "{{appUrl}}/invoices" },
    },
  },
  "seat-released": {
    en: {
      subject: "Your seat in {{course}} was released",
      paragraphs: ["Hello {{name}},", "your seat in {{course}} was held for payment and was released because it was not paid in time. You can enroll again if seats are free."],
      action: { label: "See the course", url: "{{appUrl}}/courses/{{courseId}}" },
    },
    es: {
      subject: "Tu plaza en {{course}} se ha liberado",
      paragraphs: ["Hola {{name}}:", "tu plaza en {{course}} estaba reservada a la espera del pago y se ha liberado porque no se pagó a tiempo. Puedes volver a inscribirte si quedan plazas."],
      action: { label: "Ver el curso", url: "{{appUrl}}/courses/{{courseId}}" },
    },
  },
  "attendance-low": {
    en: {
      subject: "Your attendance in {{course}} is {{rate}}",
      paragraphs: ["Hello {{name}},", "your attendance in {{course}} is {{rate}}, below the {{threshold}} the course expects. If something keeps you away, talk to your instructors or apply for leave."],
      action: { label: "Open the course", url: "{{appUrl}}/courses/{{courseId}}" },
    },
    es: {
      subject: "Tu asistencia en {{course}} es del {{rate}}",
      paragraphs: ["Hola {{name}}:", "tu asistencia en {{course}} es del {{rate}}, por debajo del {{threshold}} que pide el curso. Si algo te impide asistir, habla con tus docentes o solicita un permiso."],
      action: { label: "Abrir el curso", url: "{{appUrl}}/courses/{{courseId}}" },
    },
  },
  "attendance-low-staff": {
    en: {
      subject: "{{learner}}'s attendance in {{course}} is {{rate}}",
      paragraphs: ["Hello {{name}},", "{{learner}}'s attendance in {{course}} is {{rate}}, below the course's threshold of {{threshold}} ({{period}})."],
      action: { label: "Open attendance", url: "{{appUrl}}/courses/{{courseId}}/attendance" },
    },
    es: {
      subject: "La asistencia de {{learner}} en {{course}} es del {{rate}}",
      paragraphs: ["Hola {{name}}:", "la asistencia de {{learner}} en {{course}} es del {{rate}}, por debajo del umbral del curso, {{threshold}} ({{period}})."],
      action: { label: "Abrir la asistencia", url: "{{appUrl}}/courses/{{courseId}}/attendance" },
    },
  },
  // Invoices and credit notes (the invoices subscription's documents): transactional, no opt-out.
  "invoice-issued": {
    en: {
      subject: "Invoice {{number}} for {{course}}: {{total}}",
      paragraphs: ["Hello {{name}},", "here is invoice {{number}} for {{course}}. Total: {{total}}.", "Due: {{dueDates}}.", "The PDF link below works for 72 hours; your invoices are always listed in your account."],
      action: { label: "Download the invoice (PDF)", url: "{{downloadUrl}}" },
    },
    es: {
      subject: "Factura {{number}} de {{course}}: {{total}}",
      paragraphs: ["Hola {{name}}:", "te enviamos la factura {{number}} de {{course}}. Total: {{total}}.", "Vencimientos: {{dueDates}}.", "El enlace al PDF funciona durante 72 horas; tus facturas siempre aparecen en tu cuenta."],
      action: { label: "Descargar la factura (PDF)", url: "{{downloadUrl}}" },
    },
  },
  "credit-note-issued": {
    en: {
      subject: "Credit note {{creditNoteNumber}} for invoice {{number}}",
      paragraphs: ["Hello {{name}},", "credit note {{creditNoteNumber}} takes {{amount}} off invoice {{number}} for {{course}}.", "Reason: {{reason}}", "The PDF link below works for 72 hours."],
      action: { label: "Download the credit note (PDF)", url: "{{downloadUrl}}" },
    },
    es: {
      subject: "Nota de crédito {{creditNoteNumber}} de la factura {{number}}",
      paragraphs: ["Hola {{name}}:", "la nota de crédito {{creditNoteNumber}} descuenta {{amount}} de la factura {{number}} de {{course}}.", "Motivo: {{reason}}", "El enlace al PDF funciona durante 72 horas."],
      action: { label: "Descargar la nota de crédito (PDF)", url: "{{downloadUrl}}" },
    },
  },
  "certificate-issued": {
    en: {
      subject: "Your certificate for {{course}}",
      paragraphs: ["Congratulations {{name}},", "you completed {{course}}. Your certificate is ready; the download link below works for 7 days, and your certificates are always listed in your profile.", "Verification code: {{code}}"],
      action: { label: "Download the certificate", url: "{{downloadUrl}}" },
    },
    es: {
      subject: "Tu certificado de {{course}}",
      paragraphs: ["Enhorabuena, {{name}}:", "has completado {{course}}. Tu certificado está listo; el enlace funciona durante 7 días y tus certificados siempre aparecen en tu perfil.", "Código de verificación: {{code}}"],
      action: { label: "Descargar el certificado", url: "{{downloadUrl}}" },
    },
  },
  "grade-published": {
    en: {
      subject: "Your grade for {{assessment}} is published",
      paragraphs: ["Hello {{name}},", "your grade for {{assessment}} in {{course}} is published: {{percent}}."],
      action: { label: "See your grade", url: "{{appUrl}}/grades/{{gradeId}}" },
    },
    es: {
      subject: "Tu nota de {{assessment}} está publicada",
      paragraphs: ["Hola {{name}}:", "tu nota de {{assessment}} en {{course}} está publicada: {{percent}}."],
      action: { label: "Ver tu nota", url: "{{appUrl}}/grades/{{gradeId}}" },
    },
  },
  "results-released": {
    en: {
      subject: "Results of {{assessment}} are released",
      paragraphs: ["Hello {{name}},", "the results of {{assessment}} in {{course}} are released. Your grade is waiting for you."],
      action: { label: "See your grades", url: "{{appUrl}}/courses/{{courseId}}/grades" },
    },
    es: {
      subject: "Ya están los resultados de {{assessment}}",
      paragraphs: ["Hola {{name}}:", "ya se han publicado los resultados de {{assessment}} en {{course}}. Tu nota te está esperando."],
      action: { label: "Ver tus notas", url: "{{appUrl}}/courses/{{courseId}}/grades" },
    },
  },
  "grading-requested": {
    en: {
      subject: "A submission in {{course}} needs grading",
      paragraphs: ["Hello {{name}},", "a submission to {{assessment}} in {{course}} has items only a person can grade: {{items}}."],
      action: { label: "Open the submission", url: "{{appUrl}}/submissions/{{submissionId}}" },
    },
  },
  "grading-overdue": {
    en: {
      subject: "Grading is overdue in {{course}}",
      paragraphs: ["Hello {{name}},", "a submission to {{assessment}} in {{course}} still waits for grading ({{items}}); its grading deadline has passed."],
      action: { label: "Grade it now", url: "{{appUrl}}/submissions/{{submissionId}}" },
    },
  },
  "webhook-disabled": {
    en: {
      subject: "Ringlet stopped sending webhooks to {{host}}",
      paragraphs: [
        "Hello {{name}},",
        "the webhook endpoint {{endpoint}} you registered failed {{failures}} delivery attempts in a row since {{since}}, so Ringlet disabled it. Its pending deliveries will not be sent.",
        "Once the endpoint answers again, enable it (PATCH /api/v1/webhooks/{{webhookId}} with active: true) and replay the deliveries you need from its log.",
      ],
    },
    es: {
      subject: "Ringlet ha dejado de enviar webhooks a {{host}}",
      paragraphs: [
        "Hola {{name}}:",
        "el endpoint de webhooks {{endpoint}} que registraste ha fallado {{failures}} intentos de entrega seguidos desde el {{since}}, así que Ringlet lo ha desactivado. Sus entregas pendientes no se enviarán.",
        "Cuando el endpoint vuelva a responder, actívalo (PATCH /api/v1/webhooks/{{webhookId}} con active: true) y reenvía desde su registro las entregas que necesites.",
      ],
    },
  },
  "data-export-ready": {
    en: {
      subject: "Your Ringlet data export is ready",
      paragraphs: [
        "Hello {{name}},",
        "the copy of your data you asked for on {{requestedAt}} is ready: one zip file with everything Ringlet holds about you.",
        "The download link below works until {{linkExpiresAt}}; after that, ask for a fresh one under your data exports until {{expiresAt}}, when the archive is deleted. If you did not ask for this export, change your password.",
      ],
      action: { label: "Download your data", url: "{{downloadUrl}}" },
    },
    es: {
      subject: "Tu exportación de datos de Ringlet está lista",
      paragraphs: [
        "Hola {{name}}:",
        "la copia de tus datos que pediste el {{requestedAt}} está lista: un archivo zip con todo lo que Ringlet guarda sobre ti.",
        "El enlace funciona hasta el {{linkExpiresAt}}; después, pide uno nuevo en tus exportaciones de datos hasta el {{expiresAt}}, cuando se borra el archivo. Si no pediste esta exportación, cambia tu contraseña.",
      ],
      action: { label: "Descargar tus datos", url: "{{downloadUrl}}" },
    },
  },
  "erasure-scheduled": {
    en: {
      subject: "Your Ringlet account will be erased on {{dueAt}}",
      paragraphs: [
        "Hello {{name}},",
        "as asked, your Ringlet account and the personal data it holds will be erased on {{dueAt}}. Until then the account is switched off and you are signed out everywhere. Your grades stay in your courses' records under a pseudonym.",
        "Changed your mind? Cancel the erasure with the link below before {{dueAt}} (or ask an administrator to cancel it); your account then works again as before.",
      ],
      action: { label: "Cancel the erasure", url: "{{appUrl}}/account/erasure/cancel?token={{token}}" },
    },
    es: {
      subject: "Tu cuenta de Ringlet se borrará el {{dueAt}}",
      paragraphs: [
        "Hola {{name}}:",
        "como pediste, tu cuenta de Ringlet y los datos personales que contiene se borrarán el {{dueAt}}. Hasta entonces la cuenta queda desactivada y se ha cerrado tu sesión en todas partes. Tus calificaciones se conservan en los registros de tus cursos bajo un seudónimo.",
        "¿Has cambiado de idea? Cancela el borrado con el enlace de abajo antes del {{dueAt}} (o pide a un administrador que lo cancele); tu cuenta volverá a funcionar como antes.",
      ],
      action: { label: "Cancelar el borrado", url: "{{appUrl}}/account/erasure/cancel?token={{token}}" },
    },
  },
  "erasure-scheduled-by-admin": {
    en: {
      subject: "Your Ringlet account will be erased on {{dueAt}}",
      paragraphs: [
        "Hello {{name}},",
        "an administrator has scheduled the erasure of your Ringlet account and the personal data it holds on {{dueAt}}. Until then the account is switched off and you are signed out everywhere. Your grades stay in your courses' records under a pseudonym.",
        "If you did not ask for this, or want to keep your account, cancel the erasure with the link below before {{dueAt}} (or ask an administrator to cancel it); your account then works again as before.",
      ],
      action: { label: "Cancel the erasure", url: "{{appUrl}}/account/erasure/cancel?token={{token}}" },
    },
    es: {
      subject: "Tu cuenta de Ringlet se borrará el {{dueAt}}",
      paragraphs: [
        "Hola {{name}}:",
        "un administrador ha programado el borrado de tu cuenta de Ringlet y de los datos personales que contiene para el {{dueAt}}. Hasta entonces la cuenta queda desactivada y se ha cerrado tu sesión en todas partes. Tus calificaciones se conservan en los registros de tus cursos bajo un seudónimo.",
        "Si no lo pediste, o quieres conservar tu cuenta, cancela el borrado con el enlace de abajo antes del {{dueAt}} (o pide a un administrador que lo cancele); tu cuenta volverá a funcionar como antes.",
      ],
      action: { label: "Cancelar el borrado", url: "{{appUrl}}/account/erasure/cancel?token={{token}}" },
    },
  },
  // One per learner per cancel action, however many sessions it cancelled.
  "class-cancelled": {
    en: {
      subject: "{{course}}: class cancelled ({{count}})",
      paragraphs: ["Hello {{name}},", "{{count}} session(s) of {{title}} in {{course}} are cancelled: {{sessions}}.", "Reason: {{reason}}"],
      action: { label: "See your schedule", url: "{{appUrl}}/schedule" },
    },
    es: {
      subject: "{{course}}: clase cancelada ({{count}})",
      paragraphs: ["Hola {{name}}:", "se han cancelado {{count}} sesión(es) de {{title}} en {{course}}: {{sessions}}.", "Motivo: {{reason}}"],
      action: { label: "Ver tu horario", url: "{{appUrl}}/schedule" },
    },
  },
  // A course announcement; its text is the author's Markdown as plain text (HTML-escaped in the HTML part like every value).
  announcement: {
    en: {
      subject: "{{course}}: {{title}}",
      paragraphs: ["Hello {{name}},", "{{author}} posted an announcement in {{course}}: {{title}}", "{{body}}"],
      action: { label: "Read it in Ringlet", url: "{{appUrl}}/courses/{{courseId}}/announcements/{{announcementId}}" },
    },
    es: {
      subject: "{{course}}: {{title}}",
      paragraphs: ["Hola {{name}}:", "{{author}} ha publicado un aviso en {{course}}: {{title}}", "{{body}}"],
      action: { label: "Leerlo en Ringlet", url: "{{appUrl}}/courses/{{courseId}}/announcements/{{announcementId}}" },
    },
  },
  // Discussion emails carry the post's text as plain text (HTML-escaped in the HTML part like every value).
  "discussion-reply": {
    en: {
      subject: "New reply in \"{{topic}}\"",
      paragraphs: ["Hello {{name}},", "{{author}} replied in \"{{topic}}\" ({{course}}): {{excerpt}}"],
      action: { label: "Read the discussion", url: "{{appUrl}}/discussions/{{topicId}}" },
    },
    es: {
      subject: "Nueva respuesta en «{{topic}}»",
      paragraphs: ["Hola {{name}}:", "{{author}} ha respondido en «{{topic}}» ({{course}}): {{excerpt}}"],
      action: { label: "Leer el debate", url: "{{appUrl}}/discussions/{{topicId}}" },
    },
  },
  "discussion-mention": {
    en: {
      subject: "{{author}} mentioned you in \"{{topic}}\"",
      paragraphs: ["Hello {{name}},", "{{author}} mentioned you in \"{{topic}}\" ({{course}}): {{excerpt}}"],
      action: { label: "Read the post", url: "{{appUrl}}/discussions/{{topicId}}" },
    },
    es: {
      subject: "{{author}} te ha mencionado en «{{topic}}»",
      paragraphs: ["Hola {{name}}:", "{{author}} te ha mencionado en «{{topic}}» ({{course}}): {{excerpt}}"],
      action: { label: "Leer la publicación", url: "{{appUrl}}/discussions/{{topicId}}" },
    },
  },
  // The daily digest of the discussion emails a user chose to receive batched; {{items}} is one line per item.
  "discussion-digest": {
    en: {
      subject: "Your discussion digest: {{count}} new",
      paragraphs: ["Hello {{name}},", "here is what happened in the discussions you follow since the last digest:", "{{items}}"],
      action: { label: "Open your notifications", url: "{{appUrl}}/notifications" },
    },
    es: {
      subject: "Tu resumen de debates: {{count}} novedades",
      paragraphs: ["Hola {{name}}:", "esto es lo que ha pasado en los debates que sigues desde el último resumen:", "{{items}}"],
      action: { label: "Abrir tus notificaciones", url: "{{appUrl}}/notifications" },
    },
  },
  // The importer's summary of a bulk import (system mail: they asked for it); counts only, the rows are in the report.
  "import-completed": {
    en: {
      subject: "Your {{run}}{{kind}} import {{outcome}}: {{applied}} rows applied, {{failed}} failed",
      paragraphs: [
        "Hello {{name}},",
        "your {{run}}import of {{fileName}} ({{kind}}) {{outcome}} on {{finishedAt}}. Of {{read}} rows read, {{applied}} were applied, {{failed}} failed and {{skipped}} were skipped.",
        "{{summary}}",
        "The report lists every failed or skipped row with its line and the reason. It is not a link to click: signed in to Ringlet, fetch it from the API with your access token (Authorization: Bearer): GET {{appUrl}}/api/v1/imports/{{importId}}/report.csv",
      ],
    },
    es: {
      subject: "Tu importación {{run}}de {{kind}} {{outcome}}: {{applied}} filas aplicadas, {{failed}} con errores",
      paragraphs: [
        "Hola {{name}}:",
        "tu importación {{run}}de {{fileName}} ({{kind}}) {{outcome}} el {{finishedAt}}. De {{read}} filas leídas, se aplicaron {{applied}}, fallaron {{failed}} y se omitieron {{skipped}}.",
        "{{summary}}",
        "El informe indica cada fila con error u omitida, con su línea y el motivo. No es un enlace para pulsar: con tu sesión de Ringlet iniciada, pídelo a la API con tu token de acceso (Authorization: Bearer): GET {{appUrl}}/api/v1/imports/{{importId}}/report.csv",
      ],
    },
  },
  "import-failed": {
    en: {
      subject: "Your {{run}}{{kind}} import failed",
      paragraphs: [
        "Hello {{name}},",
        "your {{run}}import of {{fileName}} ({{kind}}) failed on {{finishedAt}}: {{reason}}",
        "{{applied}} rows had been applied before it stopped; the report (with rows=all) says which. Signed in, the API answers with your access token (Authorization: Bearer): GET {{appUrl}}/api/v1/imports/{{importId}} for the import, and .../report.csv?rows=all for the report.",
      ],
    },
    es: {
      subject: "Tu importación {{run}}de {{kind}} ha fallado",
      paragraphs: [
        "Hola {{name}}:",
        "tu importación {{run}}de {{fileName}} ({{kind}}) falló el {{finishedAt}}: {{reason}}",
        "Se habían aplicado {{applied}} filas antes de que se detuviera; el informe (con rows=all) indica cuáles. Con tu sesión iniciada, la API responde con tu token de acceso (Authorization: Bearer): GET {{appUrl}}/api/v1/imports/{{importId}} para la importación, y .../report.csv?rows=all para el informe.",
      ],
    },
  },
  // Leave applications (domain/leave): each step of the approval workflow. The reason is not in them: it may be
  // private (health); approvers read it signed in.
  "leave-requested": {
    en: {
      subject: "{{applicant}} asks for leave from {{startsAt}} to {{endsAt}}",
      paragraphs: ["Hello {{name}},", "{{applicant}} applied for leave from {{startsAt}} to {{endsAt}}. You are one of the people who may approve or reject it; it escalates to the administrators on {{escalatesAt}} if nobody has decided."],
      action: { label: "Open the application", url: "{{appUrl}}/leave-applications/{{applicationId}}" },
    },
    es: {
      subject: "{{applicant}} solicita un permiso del {{startsAt}} al {{endsAt}}",
      paragraphs: ["Hola {{name}}:", "{{applicant}} ha solicitado un permiso del {{startsAt}} al {{endsAt}}. Eres una de las personas que pueden aprobarlo o rechazarlo; si nadie decide, pasa a los administradores el {{escalatesAt}}."],
      action: { label: "Abrir la solicitud", url: "{{appUrl}}/leave-applications/{{applicationId}}" },
    },
  },
  "leave-escalated": {
    en: {
      subject: "Leave of {{applicant}} waits for a decision",
      paragraphs: ["Hello {{name}},", "nobody has decided the leave {{applicant}} asked for ({{startsAt}} to {{endsAt}}), so it now comes to the administrators. It expires on {{expiresAt}} if nobody decides."],
      action: { label: "Decide", url: "{{appUrl}}/leave-applications/{{applicationId}}" },
    },
    es: {
      subject: "El permiso de {{applicant}} espera una decisión",
      paragraphs: ["Hola {{name}}:", "nadie ha decidido el permiso que solicitó {{applicant}} (del {{startsAt}} al {{endsAt}}), así que pasa a los administradores. Caduca el {{expiresAt}} si nadie lo decide."],
      action: { label: "Decidir", url: "{{appUrl}}/leave-applications/{{applicationId}}" },
    },
  },
  "leave-decided": {
    en: {
      subject: "Your leave from {{startsAt}} to {{endsAt}} was {{outcome}}",
      paragraphs: ["Hello {{name}},", "your leave application from {{startsAt}} to {{endsAt}} was {{outcome}}. {{comment}}"],
      action: { label: "Open the application", url: "{{appUrl}}/leave-applications/{{applicationId}}" },
    },
    es: {
      subject: "Tu permiso del {{startsAt}} al {{endsAt}} ha sido {{outcome}}",
      paragraphs: ["Hola {{name}}:", "tu solicitud de permiso del {{startsAt}} al {{endsAt}} ha sido {{outcome}}. {{comment}}"],
      action: { label: "Abrir la solicitud", url: "{{appUrl}}/leave-applications/{{applicationId}}" },
    },
  },
  "leave-expired": {
    en: {
      subject: "Your leave application from {{startsAt}} to {{endsAt}} expired",
      paragraphs: ["Hello {{name}},", "nobody decided your leave application from {{startsAt}} to {{endsAt}} in time, so it expired. Apply again or talk to your instructors."],
    },
    es: {
      subject: "Tu solicitud de permiso del {{startsAt}} al {{endsAt}} ha caducado",
      paragraphs: ["Hola {{name}}:", "nadie decidió a tiempo tu solicitud de permiso del {{startsAt}} al {{endsAt}}, así que ha caducado. Vuelve a solicitarlo o habla con tus profesores."],
    },
  },
  "leave-withdrawn": {
    en: {
      subject: "{{applicant}} withdrew their leave application",
      paragraphs: ["Hello {{name}},", "{{applicant}} withdrew the leave application from {{startsAt}} to {{endsAt}}: there is nothing left to decide."],
    },
    es: {
      subject: "{{applicant}} ha retirado su solicitud de permiso",
      paragraphs: ["Hola {{name}}:", "{{applicant}} ha retirado la solicitud de permiso del {{startsAt}} al {{endsAt}}: ya no hay nada que decidir."],
    },
  },
  "evaluation-opened": {
    en: {
      subject: "Tell us about {{course}}: the evaluation is open until {{closesAt}}",
      paragraphs: ["Hello {{name}},", "the course evaluation of {{course}} ({{term}}) is open until {{closesAt}}. Your answers are anonymous: nobody, instructors included, can see who gave them."],
      action: { label: "Answer the evaluation", url: "{{appUrl}}/courses/{{courseId}}/evaluations/{{evaluationId}}" },
    },
    es: {
      subject: "Cuéntanos qué te parece {{course}}: la evaluación está abierta hasta el {{closesAt}}",
      paragraphs: ["Hola {{name}}:", "la evaluación del curso {{course}} ({{term}}) está abierta hasta el {{closesAt}}. Tus respuestas son anónimas: nadie, tampoco el profesorado, puede ver quién las dio."],
      action: { label: "Responder la evaluación", url: "{{appUrl}}/courses/{{courseId}}/evaluations/{{evaluationId}}" },
    },
  },
  "evaluation-reminder": {
    en: {
      subject: "The evaluation of {{course}} closes {{closesAt}}",
      paragraphs: ["Hello {{name}},", "the course evaluation of {{course}} ({{term}}) closes {{closesAt}} and we have not had your answers yet. They are anonymous and take a few minutes."],
      action: { label: "Answer the evaluation", url: "{{appUrl}}/courses/{{courseId}}/evaluations/{{evaluationId}}" },
    },
    es: {
      subject: "La evaluación de {{course}} cierra el {{closesAt}}",
      paragraphs: ["Hola {{name}}:", "la evaluación del curso {{course}} ({{term}}) cierra el {{closesAt}} y aún no tenemos tus respuestas. Son anónimas y llevan pocos minutos."],
      action: { label: "Responder la evaluación", url: "{{appUrl}}/courses/{{courseId}}/evaluations/{{evaluationId}}" },
    },
  },
} as const satisfies Record<string, { en: Template } & Record<string, Template>>;

export type TemplateKey = keyof typeof templates;

/** The last line of an optional email: how to stop emails of its kind (also in its List-Unsubscribe header). */
export const unsubscribeLine: { en: string } & Record<string, string> = {
  en: "You get this email because of your notification settings. Stop emails like this one",
  es: "Recibes este correo por tu configuración de notificaciones. Dejar de recibir correos como este",
};
