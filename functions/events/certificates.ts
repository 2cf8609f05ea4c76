import { issueCertificate } from "../../domain/certificates/issue-certificate.js";
import { subscriptionHandler } from "../platform/subscription.js";

// The `certificates` subscription: one certificate per (learner, course) when a course is completed.
subscriptionHandler({
  name: "issue-certificate-on-course-completed",
  subscription: "certificates",
  handle: async (event, ctx) => {
    if (event.type !== "course.completed") return;
    const d = event.data;
    const issued = await issueCertificate(ctx.domain, ctx.platform.files, {
      courseId: d.courseId,
      userId: d.userId,
      verifyBaseUrl: `${ctx.platform.settings.PUBLIC_APP_URL.replace(/\/+$/, "")}/certificates/verify`,
    });
    ctx.log.info("certificate", { courseId: d.courseId, userId: d.userId, first: issued?.first });
  },
});
